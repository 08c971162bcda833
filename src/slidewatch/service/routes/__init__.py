"""One router module per resource: health, AOIs, runs (+ alerts), tiles, processes, jobs, page."""
