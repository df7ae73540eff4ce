/**
 * V8 settings the server process applies to itself at start (index.ts), with `setFlagsFromString`.
 *
 * Allocation-site pretenuring off: V8 allocates straight into the old generation the objects of any
 * allocation site whose objects all survived a young collection once, and does not take that back.
 * Under load a young collection that lands in a burst of lane messages (cursor moves, previews)
 * marks their sites so: in the school benchmark of issue 19 about 300 sites were tenured, and
 * 2.3 MB/s of objects that die within a tick went to the old generation, which only a mark-compact
 * frees; that garbage was most of the memory per connection. Without it: 0.3 MB/s, shorter
 * scavenges, half the GC time (docs/benchmarks.md). Starting Node with
 * `--allocation-site-pretenuring` keeps V8's default.
 */
export function v8Flags(execArgv: readonly string[]): string[] {
  return execArgv.includes('--allocation-site-pretenuring') ? [] : ['--no-allocation-site-pretenuring'];
}
