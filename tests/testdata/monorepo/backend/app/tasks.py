"""The fixture's Celery app, on the stack's Redis (REDIS_URL): write and
whoami, which the backend queues, and tick, which beat schedules every
second."""

import os

import redis
from celery import Celery

app = Celery("app", broker=os.environ["REDIS_URL"])
app.conf.broker_connection_retry_on_startup = True
app.conf.beat_schedule = {"tick": {"task": "app.tasks.tick", "schedule": 1.0}}


def store():
    return redis.Redis.from_url(os.environ["REDIS_URL"])


@app.task
def write(key):
    store().set("done:" + key, "1")


@app.task
def tick():
    store().incr("ticks")


@app.task
def whoami(key):
    store().set(key, "%d %s" % (os.getuid(), os.environ.get("FIXTURE_BUILT_BY", "")))
