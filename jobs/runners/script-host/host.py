"""Bootstrap of a PYTHON script.

Runs with `python3 -I -u host.py <script file>` in the script's private temp directory, talks to
the runner over fd 3 (one JSON object per line), caps its address space, and runs the user's code
top to bottom with `tributary` pre-bound (and importable: `import tributary`).
"""
import base64
import builtins
import datetime
import decimal
import json
import math
import os
import resource
import socket
import sys
import traceback
import types

FLUSH_ROWS = 1000
FLUSH_BYTES = 1 << 20
SCRIPT_NAME = "script.py"


def limit_memory():
    """Caps the address space at TRIBUTARY_MEMORY_MB: allocations beyond it raise MemoryError."""
    megabytes = int(os.environ.get("TRIBUTARY_MEMORY_MB", "0") or 0)
    if megabytes <= 0:
        return
    wanted = megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard if hard != resource.RLIM_INFINITY else wanted))


class TributaryError(RuntimeError):
    """The runner refused a request (an undeclared datasource, a write it could not store)."""


def _plain(value):
    """JSON for values json.dumps does not know: dates as ISO text, decimals as numbers, bytes as base64."""
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def _finite(value):
    """NaN and infinities become None: JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _encode(value):
    try:
        return json.dumps(value, default=_plain, ensure_ascii=False, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), default=_plain, ensure_ascii=False, allow_nan=False)


class Channel:
    """Blocking request/reply over fd 3: the runner answers every request that carries an id."""

    def __init__(self, fd):
        self.sock = socket.socket(fileno=fd)
        self.reader = self.sock.makefile("rb")
        self.next_id = 1

    def send_raw(self, json_text):
        request_id = self.next_id
        self.next_id += 1
        self.sock.sendall(('{"id":%d,%s\n' % (request_id, json_text[1:])).encode("utf-8"))
        line = self.reader.readline()
        if not line:
            # The runner went away (cancelled or killed the run).
            os._exit(1)
        reply = json.loads(line)
        if not reply.get("ok"):
            raise TributaryError(reply.get("error", "the runner refused the request"))
        return reply

    def request(self, message):
        return self.send_raw(json.dumps(message))

    def notify(self, message):
        self.sock.sendall((json.dumps(message) + "\n").encode("utf-8"))


def make_module(channel, hello):
    """The `tributary` module the script sees."""
    module = types.ModuleType("tributary")
    module.__doc__ = "Runtime of a Tributary script: read declared inputs, write declared outputs."
    buffers = {}  # output name -> [list of JSON texts, byte count]

    def flush(name):
        buffer = buffers.get(name)
        if not buffer or not buffer[0]:
            return
        json_text = '{"op":"write","target":%s,"rows":[%s]}' % (json.dumps(name), ",".join(buffer[0]))
        buffers[name] = [[], 0]
        channel.send_raw(json_text)

    def check_name(name, what):
        if not isinstance(name, str) or not name:
            raise TypeError("tributary.%s expects a datasource name or id (a str), not %r" % (what, name))

    def read(name):
        """The rows of a declared input as dicts, fetched page by page: `for row in tributary.read("orders")`."""
        check_name(name, "read")
        cursor = None
        while True:
            page = channel.request({"op": "read", "source": name, "cursor": cursor})
            yield from page["rows"]
            cursor = page.get("cursor")
            if not cursor:
                return

    def write(name, row_or_rows):
        """Adds a dict or a list of dicts to a declared output; committed only when the script succeeds."""
        check_name(name, "write")
        rows = row_or_rows if isinstance(row_or_rows, (list, tuple)) else [row_or_rows]
        for row in rows:
            if not isinstance(row, dict):
                raise TypeError("tributary.write expects a dict or a list of dicts, got %r" % (row,))
        first = name not in buffers
        buffer = buffers.setdefault(name, [[], 0])
        for row in rows:
            text = _encode(row)
            buffer[0].append(text)
            buffer[1] += len(text)
        if first and not rows:
            # An empty first write still opens the output (a REPLACE run then empties it).
            channel.send_raw('{"op":"write","target":%s,"rows":[]}' % json.dumps(name))
        elif first or len(buffer[0]) >= FLUSH_ROWS or buffer[1] >= FLUSH_BYTES:
            # The first write goes out at once so an undeclared name fails where it is written.
            flush(name)

    def log(*parts):
        """A line in the run log."""
        channel.notify({"op": "log", "message": " ".join(p if isinstance(p, str) else repr(p) for p in parts)})

    def flush_all():
        for name in list(buffers):
            flush(name)

    module.read = read
    module.write = write
    module.log = log
    module.args = list(hello.get("args") or [])
    module.kwargs = dict(hello.get("kwargs") or {})
    module.job_config = dict(hello.get("job_config") or {})
    module.TributaryError = TributaryError
    module._flush_all = flush_all
    return module


def print_error(error):
    """The traceback from the user's code on, without the frames of this bootstrap."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != SCRIPT_NAME:
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb if tb is not None else error.__traceback__)
    sys.stderr.flush()


WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
DENIED_EVENTS = {
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "pty.spawn", "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata", "sys.addaudithook", "os.kill", "os.killpg",
}
PATH_EVENTS = {
    "os.listdir": 0, "os.scandir": 0, "os.remove": 0, "os.rmdir": 0, "os.mkdir": 0, "os.rename": 0,
    "os.chmod": 0, "os.chown": 0, "os.symlink": 0, "os.link": 0, "os.truncate": 0, "os.utime": 0, "shutil.rmtree": 0,
}
MODIFYING = {"os.remove", "os.rmdir", "os.mkdir", "os.rename", "os.chmod", "os.chown", "os.symlink", "os.link", "os.truncate", "os.utime", "shutil.rmtree"}


def confine(workdir):
    """Keeps the script's files to its own directory (PEP 578 audit hook, like Node's permission model).

    Reads: its directory and Python's own library paths; writes: its directory only. Starting
    processes and loading native code through ctypes are refused. This guards against reading the
    server's data by accident or by a casual script; it is not a boundary for hostile native code.
    """
    home = os.path.realpath(workdir)
    readable = [home] + [os.path.realpath(p) for p in sys.path if p and os.path.isabs(p)]
    readable += [os.path.realpath(p) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}]
    readable += ["/dev/null", "/dev/urandom", "/etc/localtime", "/usr/share/zoneinfo"]

    def inside(path, roots):
        real = os.path.realpath(path if os.path.isabs(path) else os.path.join(home, path))
        return any(real == root or real.startswith(root.rstrip("/") + "/") for root in roots)

    def refuse(what, path):
        raise PermissionError("the script may only %s files in its own directory, not %s" % (what, path))

    def hook(event, args):
        if event in DENIED_EVENTS:
            raise PermissionError("scripts may not use %s" % event)
        if event == "open":
            path, mode, flags = (list(args) + [None, None, None])[:3]
            if path is None or isinstance(path, int):
                return
            path = os.fsdecode(path)
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags & WRITE_FLAGS)
            if not inside(path, [home] if writing else readable):
                refuse("write" if writing else "read", path)
        elif event in PATH_EVENTS and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            if not inside(path, [home] if event in MODIFYING else readable):
                refuse("change" if event in MODIFYING else "list", path)

    sys.addaudithook(hook)


def main():
    limit_memory()
    # Only fd 3 leads out: no descriptor the server itself inherited without close-on-exec.
    os.closerange(4, min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 1 << 16))
    channel = Channel(int(os.environ.get("TRIBUTARY_FD", "3")))
    module = make_module(channel, channel.request({"op": "hello"}))
    sys.modules["tributary"] = module
    with open(sys.argv[1], encoding="utf-8") as source:
        code = source.read()
    namespace = {"__name__": "__main__", "__builtins__": builtins, "tributary": module}
    confine(os.getcwd())
    try:
        exec(compile(code, SCRIPT_NAME, "exec"), namespace)
    except SystemExit as stop:
        # sys.exit() / sys.exit(0) ends the script normally; any other code fails the run.
        if stop.code not in (None, 0):
            print("the script called sys.exit(%r)" % (stop.code,), file=sys.stderr)
            sys.stderr.flush()
            os._exit(stop.code if isinstance(stop.code, int) and 0 < stop.code < 256 else 1)
    except BaseException as error:  # noqa: BLE001 - every failure of the user's code ends the run
        print_error(error)
        os._exit(1)
    try:
        module._flush_all()
        channel.request({"op": "done"})
    except BaseException as error:  # noqa: BLE001
        print_error(error)
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
