"""SQLite through SQLAlchemy's async engine (set DEMO_DATABASE_URL for another database)."""

from __future__ import annotations

import os
from typing import Annotated

from sqlalchemy import String
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from FasterAPI import Depends
from FasterAPI.contrib.sqlalchemy import sqlalchemy_session_dependency

DATABASE_URL = os.environ.get("DEMO_DATABASE_URL", "sqlite+aiosqlite:///./demo.db")

# SQLite has one writer: a fixed set of connections that requests wait for, rather than
# extra ones opened and closed under load (each aiosqlite connection is a thread).
_SQLITE_FILE = DATABASE_URL.startswith("sqlite") and ":memory:" not in DATABASE_URL
_POOL = {"pool_size": 8, "max_overflow": 0} if _SQLITE_FILE else {}
engine = create_async_engine(DATABASE_URL, **_POOL)
Session = async_sessionmaker(engine, expire_on_commit=False)
SessionDep = Annotated[AsyncSession, Depends(sqlalchemy_session_dependency(Session))]


class Base(DeclarativeBase):
    pass


class ItemRow(Base):
    __tablename__ = "items"
    # Never hand a deleted item's id to a new one (SQLite reuses the highest id otherwise).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[float]
    owner: Mapped[str] = mapped_column(String(50))


async def create_tables() -> None:
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
    except OperationalError as exc:
        # Several workers starting at once race to create the tables: one wins.
        if "already exists" not in str(exc):
            raise
