"""Long-running Byline processes: one worker thread per index, and the warm-process socket."""
