"""Async SQLAlchemy sessions as a dependency (``pip install 'FasterAPI[sqlalchemy]'``).

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

    engine = create_async_engine("sqlite+aiosqlite:///app.db")
    Session = async_sessionmaker(engine, expire_on_commit=False)
    SessionDep = Annotated[AsyncSession, Depends(sqlalchemy_session_dependency(Session))]

    app = Faster(on_shutdown=[engine.dispose])

    @app.post("/items", status_code=201)
    async def create_item(item: ItemIn, session: SessionDep) -> ItemOut:
        row = Item(name=item.name)
        session.add(row)
        await session.flush()            # assigns row.id; committed after the handler
        return ItemOut(id=row.id, name=row.name)

One session per request (shared by every dependency of that request that asks for it). When
the handler returns, the session commits; when the handler or a later dependency raises
(``HTTPException`` included), it rolls back and the exception goes on to the exception
handlers. For an ordinary (fixed-body) response the commit runs before the response is sent,
so a failing commit answers 500 rather than a success; for a streaming or file response it
runs after the body has been sent, so commit in the handler when that matters.

SQLite (the embedded default, via ``aiosqlite``): ``sqlite+aiosqlite:///path.db``; for an
in-memory database shared by all sessions pass ``poolclass=StaticPool`` and
``connect_args={"check_same_thread": False}`` to ``create_async_engine``.

PostgreSQL (``pip install asyncpg``): ``postgresql+asyncpg://user:password@host/db``, e.g.
``create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)``. Size the
pool per worker process (workers x (pool_size + max_overflow) must stay below the server's
``max_connections``); behind PgBouncer in transaction mode pass
``connect_args={"prepared_statement_cache_size": 0}`` (or ``poolclass=NullPool``). Create
the engine once per process (module level or lifespan) and dispose of it at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TypeVar

try:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("Install the SQLAlchemy extra: pip install 'FasterAPI[sqlalchemy]'") from exc

import anyio

__all__ = ["sqlalchemy_session_dependency"]

S = TypeVar("S", bound=AsyncSession)


def sqlalchemy_session_dependency(
    sessionmaker: async_sessionmaker[S], *, commit: bool = True
) -> Callable[[], AsyncIterator[S]]:
    """A yield-dependency giving each request a session from ``sessionmaker``.

    It commits when the request succeeds (unless ``commit=False``: then unflushed and
    uncommitted work is discarded when the session closes) and rolls back when it raises.
    """

    async def session_dependency() -> AsyncIterator[S]:
        async with sessionmaker() as session:
            try:
                yield session
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await session.rollback()
                raise
            if commit:
                await session.commit()

    return session_dependency
