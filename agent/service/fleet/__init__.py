"""Scale-out on Celery with Redis (setting `broker_url`): the server persists each job in the
inbox and hands its id to the broker; `fixloop worker` processes on any host carry the jobs,
one worker per incident at a time (a lease in the store), acknowledged only when done, so a
worker killed mid-run loses nothing: its incident is taken over and resumed from its checkpoint.

    app       the Celery app: queues, late acknowledgement, tasks, the beat schedule
    carry     one job on a worker: leases on its incident and its repository, then the run
    dispatch  jobs from the inbox to the broker (the server, beat, and workers after a job)
    metrics   per-queue figures for the server's /metrics
"""
