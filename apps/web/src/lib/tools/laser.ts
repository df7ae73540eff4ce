import { LaserTrails } from '../sync/LaserTrails.js';
import type { BoardSync } from '../sync/BoardSync.svelte.js';
import type { Tool, ToolPointer } from './types.js';

/**
 * The laser pointer: while the pointer is down it draws a fading trail here and, through cursor
 * moves flagged `laser`, on everyone else's screen. Nothing is stored and there is no op to undo.
 */
export function laserTool(sync: Pick<BoardSync, 'lasers' | 'laserDown' | 'moveCursor'>): Tool {
  const add = (p: ToolPointer) => sync.lasers.add(LaserTrails.SELF, p.x, p.y, performance.now());
  const end = () => {
    sync.laserDown = false;
    sync.lasers.lift(LaserTrails.SELF);
  };
  return {
    down(p) {
      sync.laserDown = true;
      add(p);
      sync.moveCursor(p.x, p.y);
    },
    move(points) {
      // The canvas already sent the cursor (flagged, since laserDown is set).
      if (sync.laserDown) for (const p of points) add(p);
    },
    up(p) {
      end();
      // An unflagged position ends the trail's stroke on the others' screens.
      sync.moveCursor(p.x, p.y);
    },
    cancel: end,
  };
}
