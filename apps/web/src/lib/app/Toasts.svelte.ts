export interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error';
}

/** Short notices (someone joined, an export failed) that go away by themselves. */
export class Toasts {
  items = $state.raw<Toast[]>([]);
  private next = 1;

  show(text: string, kind: Toast['kind'] = 'info', ms = 5_000): void {
    const id = this.next++;
    this.items = [...this.items, { id, text, kind }].slice(-4);
    setTimeout(() => this.dismiss(id), ms);
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }
}
