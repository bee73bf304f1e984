"""Flask extensions, created unbound and bound in create_app()."""
import sqlite3
from typing import TYPE_CHECKING, cast

from flask_babel import Babel
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic can drop and alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def rows_changed(statement) -> int:
    """Run an UPDATE or DELETE in the session; how many rows it changed."""
    return cast(CursorResult, db.session.execute(statement)).rowcount or 0

# The models derive from `Model`: at run time Flask-SQLAlchemy's `db.Model` (made from Base,
# with table names and the engine binding); a type checker cannot take the attribute of an
# object as a base class, so for it they derive from Base, which declares the same mapping.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
htmx = HTMX()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@event.listens_for(Engine, "connect")
def _sqlite_unicode_lower(dbapi_connection, _connection_record):
    """SQLite's own lower() knows only ASCII; searches must find "Ö" when "ö" is typed."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(
            "lower", 1, lambda value: value.lower() if isinstance(value, str) else value,
            deterministic=True)
