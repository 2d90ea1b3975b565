"""Extensions created unbound and bound in the factory, so modules can import them freely."""

from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


def client_key() -> str:
    """Rate-limit clients by a keyed hash of their address: no store ever holds the address."""
    from moderation.services.comments import client_hash

    return client_hash(get_remote_address()) or "unknown"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_key)
cache = Cache()
