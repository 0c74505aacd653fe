/** Messages shown in the page's notification area (errors the page cannot show in place). */
export interface Notification {
  id: number;
  message: string;
  detail: string;
}

let nextId = 1;
export const notifications: Notification[] = $state([]);

export function notify(message: string, detail = ''): void {
  notifications.push({ id: nextId++, message, detail });
  if (notifications.length > 5) notifications.shift();
}

export function dismiss(id: number): void {
  const index = notifications.findIndex((n) => n.id === id);
  if (index >= 0) notifications.splice(index, 1);
}
