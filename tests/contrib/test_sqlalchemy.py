"""sqlalchemy_session_dependency on SQLite (aiosqlite): commit on success, rollback on error."""

from contextlib import asynccontextmanager
from typing import Annotated

import msgspec
import pytest
from sqlalchemy import String, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from FasterAPI import Depends, Faster, HTTPException
from FasterAPI.contrib.sqlalchemy import sqlalchemy_session_dependency
from FasterAPI.testclient import TestClient


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class ItemIn(msgspec.Struct):
    name: str


def build_app(url: str, commit: bool = True):
    events = []

    class TrackedSession(Session):
        pass

    event.listen(TrackedSession, "after_commit", lambda session: events.append("commit"))
    event.listen(TrackedSession, "after_rollback", lambda session: events.append("rollback"))
    engine = create_async_engine(url)
    factory = async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TrackedSession)
    SessionDep = Annotated[
        AsyncSession, Depends(sqlalchemy_session_dependency(factory, commit=commit))
    ]

    @asynccontextmanager
    async def lifespan(app):
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        yield
        await engine.dispose()

    app = Faster(lifespan=lifespan)

    @app.post("/items", status_code=201)
    async def create_item(item: ItemIn, session: SessionDep):
        row = Item(name=item.name)
        session.add(row)
        await session.flush()
        return {"id": row.id, "name": row.name}

    @app.post("/items/conflict")
    async def conflict(item: ItemIn, session: SessionDep):
        session.add(Item(name=item.name))
        await session.flush()  # the row is in the transaction before the handler raises
        raise HTTPException(409, "conflict")

    @app.post("/items/crash")
    async def crash(item: ItemIn, session: SessionDep):
        session.add(Item(name=item.name))
        await session.flush()
        raise RuntimeError("boom")

    async def audit(session: SessionDep):
        yield session
        events.append("audit closed")

    @app.post("/items/shared")
    async def shared(item: ItemIn, session: SessionDep, same: AsyncSession = Depends(audit)):
        assert same is session  # one session per request
        session.add(Item(name=item.name))
        return {"same": same is session}

    @app.get("/items")
    async def list_items(session: SessionDep):
        rows = await session.scalars(select(Item.name).order_by(Item.id))
        return list(rows)

    @app.get("/count")
    async def count(session: SessionDep):
        return await session.scalar(select(func.count()).select_from(Item))

    return app, events


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


def test_sqlalchemy_session_commits_on_success(db_url):
    app, events = build_app(db_url)
    with TestClient(app) as client:
        created = client.post("/items", json={"name": "apple"})
        assert created.status_code == 201
        assert created.json() == {"id": 1, "name": "apple"}
        assert events == ["commit"]
        assert client.get("/items").json() == ["apple"]


def test_sqlalchemy_session_rolls_back_on_http_exception(db_url):
    app, events = build_app(db_url)
    with TestClient(app) as client:
        client.post("/items", json={"name": "apple"})
        response = client.post("/items/conflict", json={"name": "pear"})
        assert response.status_code == 409
        assert response.json() == {"detail": "conflict"}
        assert events == ["commit", "rollback"]
        assert client.get("/items").json() == ["apple"]


def test_sqlalchemy_session_rolls_back_on_unhandled_error(db_url):
    app, _ = build_app(db_url)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/items/crash", json={"name": "plum"})
        assert response.status_code == 500
        assert client.get("/count").json() == 0
        assert client.post("/items", json={"name": "plum"}).status_code == 201
        assert client.get("/items").json() == ["plum"]


def test_sqlalchemy_session_error_reaches_the_caller(db_url):
    app, _ = build_app(db_url)
    with TestClient(app) as client, pytest.raises(RuntimeError, match="boom"):
        client.post("/items/crash", json={"name": "plum"})


def test_sqlalchemy_integrity_error_in_flush_rolls_back(db_url):
    app, _ = build_app(db_url)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.post("/items", json={"name": "fig"})
        duplicate = client.post("/items", json={"name": "fig"})
        assert duplicate.status_code == 500
        assert client.get("/items").json() == ["fig"]


def test_sqlalchemy_one_session_per_request_shared_by_dependencies(db_url):
    app, events = build_app(db_url)
    with TestClient(app) as client:
        assert client.post("/items/shared", json={"name": "kiwi"}).json() == {"same": True}
        assert client.get("/items").json() == ["kiwi"]
    assert "audit closed" in events


def test_sqlalchemy_commit_false_discards_work(db_url):
    app, _ = build_app(db_url, commit=False)
    with TestClient(app) as client:
        assert client.post("/items", json={"name": "lime"}).status_code == 201
        assert client.get("/items").json() == []
