export type Route =
  | { name: 'home' }
  | { name: 'board'; boardId: string }
  | { name: 'join'; code: string }
  | { name: 'guest'; code: string }
  | { name: 'embed'; code: string }
  | { name: 'notFound'; path: string };

/** The route a path names. */
export function parseRoute(path: string): Route {
  if (path === '/' || path === '') return { name: 'home' };
  const board = path.match(/^\/b\/([A-Za-z0-9_-]{1,64})\/?$/);
  if (board) return { name: 'board', boardId: board[1]! };
  const join = path.match(/^\/join\/([A-Za-z0-9_-]{10,100})\/?$/);
  if (join) return { name: 'join', code: join[1]! };
  // A public link (issue 18): opened as a guest, no account needed.
  const guest = path.match(/^\/g\/([A-Za-z0-9_-]{10,100})\/?$/);
  if (guest) return { name: 'guest', code: guest[1]! };
  const embed = path.match(/^\/embed\/([A-Za-z0-9_-]{10,100})\/?$/);
  if (embed) return { name: 'embed', code: embed[1]! };
  return { name: 'notFound', path };
}

/** History API routing: the path is state, links and back/forward update it. */
export class Router {
  path = $state(location.pathname);
  route = $derived(parseRoute(this.path));

  navigate(path: string, options: { replace?: boolean } = {}): void {
    if (path === this.path && !options.replace) return;
    if (options.replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    this.path = location.pathname;
  }

  /** Listens to back/forward and to clicks on same-origin links; returns the cleanup. */
  start(): () => void {
    const onPop = () => (this.path = location.pathname);
    const onClick = (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const a = e.target instanceof Element ? e.target.closest('a') : null;
      if (!a || a.target || a.hasAttribute('download') || !a.href) return;
      const url = new URL(a.href);
      if (url.origin !== location.origin || url.pathname.startsWith('/trpc')) return;
      e.preventDefault();
      this.navigate(url.pathname);
    };
    addEventListener('popstate', onPop);
    document.addEventListener('click', onClick);
    return () => {
      removeEventListener('popstate', onPop);
      document.removeEventListener('click', onClick);
    };
  }
}
