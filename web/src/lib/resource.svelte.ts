import { handleError } from './handle-error.js';

export type ResourceStatus = 'loading' | 'ready' | 'missing' | 'error';

/**
 * An object a page shows: loaded when the page opens, reloaded every second while `keepPolling`
 * says it is still changing (a run in progress), and after actions through `refresh`. `null`
 * from `load` means it does not exist; a failure goes to handleError with `failure`.
 */
export function resource<T>(load: () => Promise<T | null>, failure: string, keepPolling: (value: T) => boolean = () => false) {
  let value = $state<T | null>(null);
  let status = $state<ResourceStatus>('loading');

  async function refresh(): Promise<void> {
    try {
      value = await load();
      status = value ? 'ready' : 'missing';
    } catch (error) {
      status = 'error';
      handleError(error, failure);
    }
  }

  $effect(() => {
    void refresh();
    const timer = setInterval(() => {
      if (value && keepPolling(value)) void refresh();
    }, 1000);
    return () => clearInterval(timer);
  });

  return {
    get value() {
      return value;
    },
    get status() {
      return status;
    },
    refresh,
  };
}
