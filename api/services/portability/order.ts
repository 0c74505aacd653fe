/**
 * Kahn's order of `edges` (node → what it needs), without recursion (an archive may nest joins
 * thousands deep): `order` lists each node after what it needs among the keys; `cyclic` the nodes
 * on or behind a cycle.
 */
export function dependencyOrder(edges: Map<string, string[]>): { order: string[]; cyclic: string[] } {
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [node, needs] of edges) {
    const inside = [...new Set(needs.filter((n) => edges.has(n)))];
    waiting.set(node, inside.length);
    for (const need of inside) dependents.set(need, [...(dependents.get(need) ?? []), node]);
  }
  const ready = [...waiting].filter(([, n]) => n === 0).map(([node]) => node);
  const order: string[] = [];
  while (ready.length > 0) {
    const node = ready.pop()!;
    order.push(node);
    for (const next of dependents.get(node) ?? []) {
      const n = waiting.get(next)! - 1;
      waiting.set(next, n);
      if (n === 0) ready.push(next);
    }
  }
  const done = new Set(order);
  return { order, cyclic: [...edges.keys()].filter((node) => !done.has(node)) };
}
