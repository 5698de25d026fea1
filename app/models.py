"""Database tables: TikTok accounts and the snapshots of their counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Constraint names follow one pattern so that Alembic migrations can refer to them on
# every database (SQLite's batch mode needs named constraints to alter a table).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The whole userInfo object from TikTok: JSONB on Postgres (indexable), JSON text elsewhere.
Payload = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetime; SQLite stores it as naive text, so read it back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware UTC value")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with the shared constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Counts:
    """The six counts TikTok reports for an account, exact and 64-bit (likes exceed 2^31)."""

    follower_count: Mapped[int | None] = mapped_column(BigInteger)
    following_count: Mapped[int | None] = mapped_column(BigInteger)
    like_count: Mapped[int | None] = mapped_column(BigInteger)
    video_count: Mapped[int | None] = mapped_column(BigInteger)
    digg_count: Mapped[int | None] = mapped_column(BigInteger)
    friend_count: Mapped[int | None] = mapped_column(BigInteger)


class TikTokUser(Counts, Base):
    """One TikTok account, keyed by TikTok's numeric user id, which never changes."""

    __tablename__ = "tiktok_users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Usernames can change on TikTok; a row loses its username when another account
    # takes it, so the column is nullable and unique.
    username: Mapped[str | None] = mapped_column(String(255), unique=True)
    sec_uid: Mapped[str] = mapped_column(String(255), unique=True)
    nickname: Mapped[str | None] = mapped_column(Text)
    bio: Mapped[str | None] = mapped_column(Text)
    avatar_url: Mapped[str | None] = mapped_column(Text)
    bio_link: Mapped[str | None] = mapped_column(Text)
    verified: Mapped[bool]
    private_account: Mapped[bool]
    region: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)
    first_collected_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_collected_at: Mapped[datetime] = mapped_column(UtcDateTime)

    snapshots: Mapped[list[UserSnapshot]] = relationship(
        back_populates="user",
        order_by="UserSnapshot.collected_at",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"<TikTokUser id={self.id} username={self.username!r}>"


class UserSnapshot(Counts, Base):
    """The counts of one account at one collection; rows are only ever appended."""

    __tablename__ = "user_snapshots"
    __table_args__ = (Index("ix_user_snapshots_user_id_collected_at", "user_id", "collected_at"),)

    # SQLite assigns ids automatically only to an INTEGER PRIMARY KEY column.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("tiktok_users.id", ondelete="CASCADE")
    )
    collected_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # "api" for /api/user/detail/, "profile_page" for the user object in the profile page.
    source: Mapped[str] = mapped_column(String(16))

    user: Mapped[TikTokUser] = relationship(back_populates="snapshots")

    def __repr__(self) -> str:
        return f"<UserSnapshot user_id={self.user_id} collected_at={self.collected_at}>"
