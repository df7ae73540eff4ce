export type ThemeName = 'light' | 'dark';

const KEY = 'inkboard:theme';

/** Light or dark: follows the system until the person picks one (kept in localStorage). */
export class Theme {
  choice = $state<ThemeName | null>(readChoice());
  system = $state<ThemeName>(matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  resolved = $derived<ThemeName>(this.choice ?? this.system);

  toggle(): void {
    const next: ThemeName = this.resolved === 'dark' ? 'light' : 'dark';
    // Back to the system's choice when it agrees, so a later system change is followed again.
    this.choice = next === this.system ? null : next;
    if (this.choice) localStorage.setItem(KEY, this.choice);
    else localStorage.removeItem(KEY);
  }

  /** Follows the system setting; returns the cleanup. */
  start(): () => void {
    const media = matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => (this.system = media.matches ? 'dark' : 'light');
    media.addEventListener('change', onChange);
    return () => media.removeEventListener('change', onChange);
  }
}

function readChoice(): ThemeName | null {
  const value = localStorage.getItem(KEY);
  return value === 'light' || value === 'dark' ? value : null;
}
