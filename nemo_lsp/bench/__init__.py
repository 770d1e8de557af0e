"""`nemo bench`: run the NEMO pipeline over optimization-modelling benchmarks and score the answers.

One module per job:

- `datasets`: read benchmark files into `Problem`s (the JSONL of ../shared/benchmarks and the
  ORLM/SIRL/LLMOPT-style JSON and JSONL files the public releases use).
- `specgen`: a problem becomes a prose-only `.opt.md` in its own workspace.
- `runner`: the local executor (K problems at a time through `engine.run`), the resumable store
  (one JSON file per finished problem, written atomically) and the progress line.
- `ray_executor`: the same problems as Ray tasks on a local or remote cluster.
- `scoring`: pure functions: tolerance conventions, per-benchmark summaries, run comparisons.
- `report`: `summary.md` and a self-contained `report.html` with inline SVG charts.
- `replay`: an agent that re-runs the programs a stored run wrote, without any model.

Nothing here runs at import; `nemo bench` imports this package lazily.
"""
