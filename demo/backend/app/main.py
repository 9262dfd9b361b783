"""CommandCenter demo backend: a FastAPI app that uses PostgreSQL and Redis.

GET /health checks both (SELECT 1, PING); GET /api/hello counts visits in
Redis. Settings come from the environment the commandcenter module sets:
DATABASE_URL, REDIS_URL and PROJECT_NAME. It returns plain dicts only, so it
runs on fastapi 0.92 (pydantic 1) and 0.115 (pydantic 2) alike.
"""

import os
from urllib.parse import urlsplit

import asyncpg
import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

PROJECT_NAME = os.environ.get("PROJECT_NAME", "commandcenter")

app = FastAPI(title="CommandCenter demo")
# The page is served on another port, so another origin, than the API.
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])


def _redis():
    return aioredis.from_url(os.environ["REDIS_URL"], socket_timeout=3, socket_connect_timeout=3)


async def _close(client):
    await getattr(client, "aclose", client.close)()  # aclose: redis 5, close: redis 4


def _reason(exc: Exception) -> str:
    """The failure's type and message, with the URLs' passwords blanked out."""
    text = f"{type(exc).__name__}: {exc}"
    for name in ("DATABASE_URL", "REDIS_URL"):
        password = urlsplit(os.environ.get(name, "")).password
        if password:
            text = text.replace(password, "***")
    return text


async def _check_postgres():
    conn = await asyncpg.connect(os.environ["DATABASE_URL"], timeout=3)
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()


async def _check_redis():
    client = _redis()
    try:
        await client.ping()
    finally:
        await _close(client)


@app.get("/health")
async def health():
    report = {"status": "ok", "postgres": "ok", "redis": "ok"}
    for name, check in (("postgres", _check_postgres), ("redis", _check_redis)):
        try:
            await check()
        except Exception as exc:  # report every failure, not just the first
            report["status"], report[name] = "error", _reason(exc)
    return report if report["status"] == "ok" else JSONResponse(report, status_code=503)


@app.get("/api/hello")
async def hello():
    client = _redis()
    try:
        visits = await client.incr("demo:visits")
    finally:
        await _close(client)
    return {"message": "Hello from the CommandCenter demo backend", "project": PROJECT_NAME, "visits": visits}
