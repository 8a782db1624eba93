"""The job schedule: per-company pulls and token refreshes, the effect worker, inbox and backfill.

Jobs are built from configuration at start in an in-memory job store (the durable state is
syncd's own tables). Each company is owned by one replica at a time through a lease that every
company job takes or renews first; a replica that does not own a company skips its jobs. A beat of
its own (``leases``) renews them and takes over lapsed ones; a pull woken on a replica that does
not own the company is left as a request its owner takes on that beat. Replicas share the
companies: each takes at most its fair share of them (``syncd.store.replicas``) and gives back
what it holds beyond that.

``schedule`` builds the jobs and runs them over ``jobs`` (one run of a job at a time),
``ownership`` (the company leases) and ``lane`` (the money lane's pool); ``stages`` is what they
run.
"""
