"""Background work: the jobs table as a queue, the worker that claims it, and one handler per job kind.

Services only enqueue (`moderation.jobs.queue`, in their own transaction); the worker's handlers
call the services, as a page would.
"""
