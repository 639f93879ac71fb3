/**
 * Counts the event loop's turns until stopped: none pass while the loop is held, so work that left the thread
 * (a worker, libuv) shows turns, and work done on it shows none.
 */
export function countEventLoopTurns(): { stop: () => number } {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop: () => {
      running = false;
      return turns;
    },
  };
}
