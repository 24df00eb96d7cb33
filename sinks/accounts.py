"""Officer accounts: who may draw, edit and save wetland red lines in the dashboard.

Viewing the dashboard is public. Editing needs a login as an ``officer`` (or ``admin``). This
module is the core of that: the credentials file, password hashing, login throttling and session
expiry. It does not import Streamlit; ``ui.auth`` draws the login form and ``python -m sinks
accounts`` (``sinks.cli_accounts``) manages the users.

Where the credentials live
--------------------------
The file named by the environment variable ``SINKS_ACCOUNTS``, else
``~/.config/jiangbei-sinks/accounts.json`` (:func:`default_accounts_path`). A path inside the
repository is refused (:class:`~geodata.errors.DataError`) so that secrets never land in git.
The dashboard and the command line must see the same path: set ``SINKS_ACCOUNTS`` for both, or
run both as the same user.

File format (JSON, version :data:`FORMAT_VERSION`)::

    {"format": "jiangbei-sinks-accounts", "version": 1,
     "users": [{"username": "li.wei", "role": "officer", "display_name": "Li Wei",
                "password_hash": "scrypt$n=16384,r=8,p=1$<salt b64>$<hash b64>",
                "created_utc": "2025-05-01T08:00:00Z", "updated_utc": "2025-05-01T08:00:00Z"}]}

Passwords are hashed with ``hashlib.scrypt`` and a random 16-byte salt per user; the cost
parameters are kept in the hash string so they can be raised later without breaking old hashes.
Writes are atomic (temporary file in the same folder, fsync, ``os.replace``), the file is mode
0600, and every read-modify-write holds an exclusive ``fcntl`` lock on ``<file>.lock`` so that
two administrators adding users at once lose nothing.

Every change of an account and every login attempt is appended to an audit log beside the file,
``<file>.audit.jsonl`` (one JSON object a line: ``utc``, ``action``, ``username``, ``actor`` and,
for changes, the ``role``; never a password or hash). :meth:`AccountStore.audit` reads it back.
The last administrator cannot be removed or demoted (someone must be able to manage users).

Login throttling is kept in memory, **per server process**: after :data:`MAX_FAILURES` failed
logins for one username from one client (the browser's address, when the dashboard knows it)
within :data:`FAILURE_WINDOW_S`, further attempts for that username from that client are refused
for :data:`LOCKOUT_S` (:class:`LoginThrottled`); after :data:`MAX_FAILURES_ANY_CLIENT` from all
clients together, from everyone. So a stranger cannot lock an officer out by guessing from one
place, and a guessing campaign from many places is still stopped. Attempts still being checked count
toward the limit, so parallel guesses cannot slip past it: at most :data:`MAX_FAILURES`
attempts per username are in flight or failed within the window. Restarting the server, or running
several server processes, resets or splits the count. Unknown usernames are hashed against a
dummy hash so that they take as long as known ones and cannot be probed by timing.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import shlex
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from geodata.errors import DataError

ENV_VAR = "SINKS_ACCOUNTS"
FILE_FORMAT = "jiangbei-sinks-accounts"
FORMAT_VERSION = 1
ROLES = ("officer", "admin")
#: Roles allowed to draw, edit and save red lines (an admin can do what an officer can).
EDIT_ROLES = frozenset(ROLES)

USERNAME_RE = re.compile(r"^[a-z0-9._-]{3,32}$")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024  # scrypt takes any length; this only bounds the work per attempt

# scrypt cost: n=2**14, r=8, p=1 uses 16 MiB and about 50 ms per hash (OWASP's minimum is
# n=2**17 at r=8 for interactive logins; raise SCRYPT_N when the server allows, old hashes keep
# working because each hash string carries its own parameters).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES, KEY_BYTES = 16, 32
_MAX_SCRYPT_N = 2**20  # refuse absurd parameters from a tampered file instead of exhausting memory

MAX_FAILURES = 5
# Failures for one username from ALL clients together before it is locked for everyone: high, so a
# stranger who knows a name (from one address) cannot lock its owner out, low enough to stop a
# guessing campaign spread over many addresses.
MAX_FAILURES_ANY_CLIENT = 50
FAILURE_WINDOW_S = 15 * 60
LOCKOUT_S = 15 * 60

SESSION_IDLE_S = 30 * 60
SESSION_MAX_S = 8 * 60 * 60

REPO_ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------- errors


class AccountError(DataError):
    """A request about accounts that cannot be carried out (unknown user, bad name or password,
    the credentials file in the wrong place or unreadable)."""

    kind = "account"


class PasswordPolicyError(AccountError):
    kind = "password_policy"


class AccountsFileMissing(AccountError):
    """No credentials file yet: nobody can log in until an administrator creates one."""

    kind = "accounts_missing"


class LoginThrottled(Exception):
    """Too many failed logins for ``username``; retry after ``retry_after_s`` seconds."""

    def __init__(self, username: str, retry_after_s: float) -> None:
        self.username = username
        self.retry_after_s = max(0.0, float(retry_after_s))
        super().__init__(f"too many failed logins for {username!r}; retry in {self.retry_after_s:.0f} s")


# ---------------------------------------------------------------------------------------- paths


def default_accounts_path() -> Path:
    """``$SINKS_ACCOUNTS`` if set (``~`` expanded), else ``~/.config/jiangbei-sinks/accounts.json``."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return Path.home() / ".config" / "jiangbei-sinks" / "accounts.json"


def create_command(path: Path | str | None = None, *, username: str = "USERNAME", role: str = "officer") -> str:
    """The shell command that creates an account (in the file the dashboard reads)."""
    cmd = f"python -m sinks accounts add {shlex.quote(username)} --role {role} --name {shlex.quote('Display Name')}"
    if path is not None and Path(path) != _default_home_path():
        cmd = f"{ENV_VAR}={shlex.quote(str(path))} {cmd}"
    return cmd


def _default_home_path() -> Path:
    return Path.home() / ".config" / "jiangbei-sinks" / "accounts.json"


def _check_outside_repo(path: Path) -> Path:
    resolved = path.expanduser().resolve()
    if resolved == REPO_ROOT or resolved.is_relative_to(REPO_ROOT):
        raise AccountError(
            path,
            f"the credentials file is inside the repository ({REPO_ROOT}), where it could be committed to git",
            f"keep it outside the repository: unset {ENV_VAR} to use ~/.config/jiangbei-sinks/accounts.json, "
            f"or point {ENV_VAR} to a path outside {REPO_ROOT}",
        )
    return resolved


# ---------------------------------------------------------------------------------------- hashing


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen,
                          maxmem=256 * n * r + 2**20)


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$n=<n>,r=<r>,p=<p>$<salt base64>$<hash base64>`` with a fresh 16-byte salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, n, r, p, KEY_BYTES)
    return f"scrypt$n={n},r={r},p={p}${_b64(salt)}${_b64(key)}"


def parse_hash(encoded: str) -> tuple[dict[str, int], bytes, bytes]:
    """(parameters, salt, key) of a hash string; ``ValueError`` if it is not one of ours."""
    parts = encoded.split("$")
    if len(parts) != 4 or parts[0] != "scrypt":
        raise ValueError("not a scrypt$params$salt$hash string")
    try:
        params = {k: int(v) for k, v in (kv.split("=", 1) for kv in parts[1].split(","))}
        salt = base64.b64decode(parts[2], validate=True)
        key = base64.b64decode(parts[3], validate=True)
    except (ValueError, binascii.Error) as exc:
        raise ValueError(f"malformed hash string ({exc})") from None
    if set(params) != {"n", "r", "p"}:
        raise ValueError(f"hash parameters must be n, r, p (got {sorted(params)})")
    n, r, p = params["n"], params["r"], params["p"]
    if not (2 <= n <= _MAX_SCRYPT_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        raise ValueError(f"hash parameters out of range (n={n}, r={r}, p={p})")
    if len(salt) < 8 or len(key) < 16:
        raise ValueError("salt or hash too short")
    return params, salt, key


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check of ``password`` against a hash string made by :func:`hash_password`."""
    params, salt, key = parse_hash(encoded)
    candidate = _scrypt(password, salt, params["n"], params["r"], params["p"], len(key))
    return hmac.compare_digest(candidate, key)


_DUMMY_LOCK = threading.Lock()
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    """A hash with the default parameters, verified for unknown users so they cost the same time."""
    global _DUMMY_HASH
    with _DUMMY_LOCK:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
        return _DUMMY_HASH


# ---------------------------------------------------------------------------------------- rules


def normalize_username(username: str) -> str:
    """Usernames are case-insensitive: stored and compared in lower case, surrounding blanks dropped."""
    return str(username).strip().lower()


def check_username(username: str) -> str:
    """The normalized username, or :class:`AccountError` explaining the rule."""
    u = normalize_username(username)
    if not USERNAME_RE.match(u):
        raise AccountError(
            f"username {username!r}",
            "a username has 3 to 32 characters, each a letter, a digit, '.', '_' or '-'",
            "choose a name such as li.wei or officer_07",
        )
    return u


def password_problems(username: str, password: str) -> list[str]:
    """Every way ``password`` breaks the policy (empty list: acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD_CHARS:
        problems.append(f"it has {len(password)} characters; at least {MIN_PASSWORD_CHARS} are required")
    if len(password) > MAX_PASSWORD_CHARS:
        problems.append(f"it has {len(password)} characters; at most {MAX_PASSWORD_CHARS} are allowed")
    if normalize_username(password) == normalize_username(username):
        problems.append("it is the same as the username")
    return problems


def check_password(username: str, password: str) -> None:
    """:class:`PasswordPolicyError` listing every problem with ``password``."""
    problems = password_problems(username, password)
    if problems:
        raise PasswordPolicyError(
            f"password for {normalize_username(username)}",
            "; ".join(problems),
            f"choose a password of at least {MIN_PASSWORD_CHARS} characters that differs from the username "
            "(a passphrase of several words is easy to remember)",
        )


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role {role!r}", f"unknown role; the roles are {', '.join(ROLES)}", "use --role officer or --role admin")
    return role


# ---------------------------------------------------------------------------------------- records


def _utc_now_iso(now: float) -> str:
    return datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Role:
    """What a role may do (shared by :class:`Account` and :class:`Session`)."""

    role: str

    @property
    def can_edit(self) -> bool:
        """May draw, edit and save red lines and sites."""
        return self.role in EDIT_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Account(_Role):
    """A user as the rest of the program sees it (never the password hash)."""

    username: str
    role: str
    display_name: str
    created_utc: str
    updated_utc: str


@dataclass(frozen=True)
class Session(_Role):
    """One login. Expires after :data:`SESSION_IDLE_S` without activity or :data:`SESSION_MAX_S`
    after logging in, whichever comes first. Times are Unix seconds."""

    username: str
    role: str
    display_name: str
    logged_in_at: float
    last_seen: float
    account_updated_utc: str = ""  # a password or role change since the login ends the session

    @classmethod
    def start(cls, account: Account, now: float) -> Session:
        return cls(account.username, account.role, account.display_name, now, now, account.updated_utc)

    @property
    def expires_at(self) -> float:
        return min(self.last_seen + SESSION_IDLE_S, self.logged_in_at + SESSION_MAX_S)

    def is_expired(self, now: float) -> bool:
        return now >= self.expires_at

    def touch(self, now: float) -> Session:
        """The same session seen again at ``now`` (``last_seen`` moves, never backwards)."""
        return dataclasses.replace(self, last_seen=max(self.last_seen, now))

    def matches(self, account: Account | None) -> bool:
        """The account still exists unchanged (same role, no password change since login)."""
        return (account is not None and account.username == self.username and account.role == self.role
                and account.updated_utc == self.account_updated_utc)


# ---------------------------------------------------------------------------------------- throttle


class LoginThrottle:
    """Failed-login counter per key, in memory, safe across threads of one process.

    ``check`` raises :class:`LoginThrottled` while a key is locked out; ``failure`` records a
    failed attempt and locks the key out for ``lockout_s`` once ``max_failures`` fall within
    ``window_s``; ``success`` clears the key.

    Logging in uses ``begin`` first: under the lock it checks the key and reserves one of the
    ``max_failures`` slots for the attempt, so attempts still being checked (the ~50 ms scrypt)
    count toward the limit. Parallel guesses cannot all pass the check before the first one
    fails: at most ``max_failures`` attempts per key are in flight plus failed within the
    window. ``success(key, reserved=True)`` / ``failure(key, now, reserved=True)`` /
    ``release(key)`` give the slot back.
    """

    def __init__(self, *, max_failures: int = MAX_FAILURES, window_s: float = FAILURE_WINDOW_S,
                 lockout_s: float = LOCKOUT_S, max_keys: int = 10_000) -> None:
        self.max_failures, self.window_s, self.lockout_s, self.max_keys = max_failures, window_s, lockout_s, max_keys
        self._lock = threading.Lock()
        self._failures: dict[object, list[float]] = {}
        self._locked_until: dict[object, float] = {}
        self._in_flight: dict[object, int] = {}

    def _check(self, key: object, username: str, now: float) -> None:
        until = self._locked_until.get(key)
        if until is not None:
            if now < until:
                raise LoginThrottled(username, until - now)
            del self._locked_until[key]

    def check(self, key: object, username: str, now: float) -> None:
        with self._lock:
            self._check(key, username, now)

    def begin(self, key: object, username: str, now: float) -> None:
        """:meth:`check`, then reserve a slot for one attempt (raises :class:`LoginThrottled`
        when the failures in the window plus the attempts in flight already reach the limit)."""
        with self._lock:
            self._check(key, username, now)
            recent = sum(1 for t in self._failures.get(key, []) if now - t < self.window_s)
            in_flight = self._in_flight.get(key, 0)
            if recent + in_flight >= self.max_failures:
                # the attempts in flight lock the name out if they fail: the worst case
                raise LoginThrottled(username, self.lockout_s)
            self._in_flight[key] = in_flight + 1

    def _release(self, key: object) -> None:
        n = self._in_flight.get(key, 0) - 1
        if n > 0:
            self._in_flight[key] = n
        else:
            self._in_flight.pop(key, None)

    def release(self, key: object) -> None:
        """Give back a slot from :meth:`begin` without counting a failure (the attempt errored)."""
        with self._lock:
            self._release(key)

    def failure(self, key: object, now: float, *, reserved: bool = False) -> None:
        with self._lock:
            if reserved:
                self._release(key)
            recent = [t for t in self._failures.get(key, []) if now - t < self.window_s]
            recent.append(now)
            if len(recent) >= self.max_failures:
                self._locked_until[key] = now + self.lockout_s
                self._failures.pop(key, None)
            else:
                self._failures[key] = recent
            if len(self._failures) + len(self._locked_until) > self.max_keys:
                self._prune(now)

    def success(self, key: object, *, reserved: bool = False) -> None:
        with self._lock:
            if reserved:
                self._release(key)
            self._failures.pop(key, None)
            self._locked_until.pop(key, None)

    def _prune(self, now: float) -> None:
        self._failures = {k: v for k, v in self._failures.items() if v and now - v[-1] < self.window_s}
        self._locked_until = {k: v for k, v in self._locked_until.items() if v > now}


#: The process-wide throttle every :class:`AccountStore` uses unless given its own.
THROTTLE = LoginThrottle()
#: ... and the one that counts a username's failures from every client together.
THROTTLE_ANY_CLIENT = LoginThrottle(max_failures=MAX_FAILURES_ANY_CLIENT)


# ---------------------------------------------------------------------------------------- store


class AccountStore:
    """The credentials file.

    Parameters
    ----------
    path
        The JSON file; default :func:`default_accounts_path`. Refused inside the repository.
    throttle
        Failed-login counter; default the process-wide :data:`THROTTLE`.
    clock
        Unix seconds now (injected by tests).
    """

    def __init__(self, path: Path | str | None = None, *, throttle: LoginThrottle | None = None,
                 throttle_any_client: LoginThrottle | None = None, clock: Callable[[], float] = time.time) -> None:
        given = Path(path) if path is not None else default_accounts_path()
        self.path = _check_outside_repo(given)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.audit_path = self.path.with_name(self.path.name + ".audit.jsonl")
        self._pending_audit: tuple | None = None  # the change being written under the lock
        self.throttle = throttle if throttle is not None else THROTTLE
        if throttle_any_client is None:  # an injected per-client throttle (tests) gets its own companion
            throttle_any_client = THROTTLE_ANY_CLIENT if throttle is None else LoginThrottle(max_failures=MAX_FAILURES_ANY_CLIENT)
        self.throttle_any_client = throttle_any_client
        self.clock = clock

    def __repr__(self) -> str:
        return f"AccountStore({str(self.path)!r})"

    # -- reading -------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.is_file()

    def _read(self) -> dict[str, dict]:
        """username -> record (with hash); empty when the file does not exist yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise AccountError(self.path, f"the credentials file cannot be read ({exc})",
                               "check that it is a UTF-8 text file owned by the user running the dashboard, mode 0600") from None
        fix = ("restore the file from a backup, or move it aside and re-create the accounts with "
               "`python -m sinks accounts add USERNAME --role officer`")
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AccountError(self.path, f"the credentials file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", fix) from None
        if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT or not isinstance(doc.get("users"), list):
            raise AccountError(self.path, f"not a credentials file (expected a JSON object with \"format\": \"{FILE_FORMAT}\" and a \"users\" list)", fix)
        if doc.get("version") != FORMAT_VERSION:
            raise AccountError(self.path, f"credentials file version {doc.get('version')!r}; this program reads version {FORMAT_VERSION}",
                               "use the program version that wrote the file, or re-create the accounts")
        users: dict[str, dict] = {}
        keys = ("username", "role", "display_name", "password_hash", "created_utc", "updated_utc")
        for i, rec in enumerate(doc["users"]):
            if not isinstance(rec, dict) or not all(isinstance(rec.get(k), str) for k in keys):
                raise AccountError(self.path, f"user entry {i} lacks one of {', '.join(keys)} (each a string)", fix)
            if rec["username"] in users:
                raise AccountError(self.path, f"user {rec['username']!r} appears twice", "remove one of the two entries by hand")
            if rec["role"] not in ROLES:
                raise AccountError(self.path, f"user {rec['username']!r} has unknown role {rec['role']!r} (roles: {', '.join(ROLES)})",
                                   "correct the role by hand, or remove and re-add the user")
            users[rec["username"]] = {k: rec[k] for k in keys}
        return users

    @staticmethod
    def _account(rec: dict) -> Account:
        return Account(rec["username"], rec["role"], rec["display_name"], rec["created_utc"], rec["updated_utc"])

    def list(self) -> list[Account]:
        """Every account, sorted by username (no password hashes)."""
        return [self._account(r) for _, r in sorted(self._read().items())]

    def get(self, username: str) -> Account | None:
        rec = self._read().get(normalize_username(username))
        return self._account(rec) if rec else None

    def require(self, username: str) -> Account:
        """The account, or :class:`AccountError` naming the known users."""
        return self._account(self._require(self._read(), normalize_username(username)))

    # -- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, dict]]:
        """Exclusive lock around read-modify-write; the yielded dict is written back on success."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise AccountError(self.path, f"cannot create the credentials folder or its lock file ({exc})",
                               f"check that {self.path.parent} is writable by this user, or set {ENV_VAR} to another path") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            users = self._read()
            self._pending_audit = None
            yield users
            self._write(users)
            if self._pending_audit is not None:  # recorded once the change is on disk, still under the lock
                action, u, actor, extra = self._pending_audit
                self._append_audit(action, u, actor, **extra)
        finally:
            self._pending_audit = None
            os.close(fd)  # closing releases the lock

    def _write(self, users: dict[str, dict]) -> None:
        doc = {"format": FILE_FORMAT, "version": FORMAT_VERSION, "users": [users[u] for u in sorted(users)]}
        data = (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), 0o600)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            tmp = None
            dfd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError as exc:
            raise AccountError(self.path, f"the credentials file could not be written ({exc}); it is unchanged",
                               f"check free space and that {self.path.parent} is writable by this user") from None
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def add(self, username: str, password: str, role: str = "officer", display_name: str | None = None,
            *, actor: str = "cli") -> Account:
        """Create an account. The username must be new; the password must meet the policy."""
        u = check_username(username)
        check_role(role)
        check_password(u, password)
        name = (display_name or "").strip() or u
        encoded = hash_password(password)  # the slow part, outside the lock
        now = _utc_now_iso(self.clock())
        with self._locked() as users:
            if u in users:
                raise AccountError(self.path, f"user {u!r} already exists",
                                   f"choose another name, or change the password with `python -m sinks accounts passwd {u}`")
            users[u] = {"username": u, "role": role, "display_name": name, "password_hash": encoded,
                        "created_utc": now, "updated_utc": now}
            self._pending_audit = ("add", u, actor, {"role": role})
            return self._account(users[u])

    def set_password(self, username: str, password: str, *, actor: str = "cli") -> Account:
        """Replace the password (which ends the user's open sessions)."""
        u = normalize_username(username)
        check_password(u, password)
        encoded = hash_password(password)
        with self._locked() as users:
            rec = self._require(users, u)
            rec["password_hash"] = encoded
            rec["updated_utc"] = _utc_now_iso(self.clock())
            self._pending_audit = ("passwd", u, actor, {})
            return self._account(rec)

    def set_role(self, username: str, role: str, *, actor: str = "cli") -> Account:
        """Change the role (which ends the user's open sessions); the last admin stays admin."""
        u = normalize_username(username)
        check_role(role)
        with self._locked() as users:
            rec = self._require(users, u)
            if rec["role"] == "admin" and role != "admin":
                self._keep_an_admin(users, u, "demote")
            rec["role"] = role
            rec["updated_utc"] = _utc_now_iso(self.clock())
            self._pending_audit = ("role", u, actor, {"role": role})
            return self._account(rec)

    def remove(self, username: str, *, actor: str = "cli") -> None:
        u = normalize_username(username)
        with self._locked() as users:
            rec = self._require(users, u)
            if rec["role"] == "admin":
                self._keep_an_admin(users, u, "remove")
            del users[u]
            self._pending_audit = ("remove", u, actor, {})

    def _keep_an_admin(self, users: dict[str, dict], u: str, what: str) -> None:
        if not any(r["role"] == "admin" for k, r in users.items() if k != u):
            raise AccountError(self.path, f"cannot {what} {u!r}: it is the last admin, and nobody could manage users after",
                               "make another user admin first (`python -m sinks accounts role NAME admin`)")

    # -- the audit log -------------------------------------------------------------------

    def _append_audit(self, action: str, username: str, actor: str, **extra) -> None:
        """One line in the audit log (O_APPEND: a line is never interleaved with another)."""
        rec = {"utc": _utc_now_iso(self.clock()), "action": action, "username": username, "actor": str(actor)[:64], **extra}
        line = (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            fd = os.open(self.audit_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise AccountError(self.audit_path, f"the audit log could not be written ({exc})",
                               f"check free space and that {self.audit_path.parent} is writable by this user") from None

    def audit(self, limit: int = 200) -> list[dict]:
        """The last ``limit`` audit records, newest first (lines that are not JSON are skipped)."""
        try:
            lines = self.audit_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in reversed(lines):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
            if len(out) >= limit:
                break
        return out

    def _require(self, users: dict[str, dict], u: str) -> dict:
        if u not in users:
            known = ", ".join(sorted(users)) or "none"
            raise AccountError(self.path, f"no user {u!r} (users: {known})", "check the spelling, or list them with `python -m sinks accounts list`")
        return users[u]

    # -- logging in ----------------------------------------------------------------------

    def authenticate(self, username: str, password: str, *, client: str | None = None) -> Account | None:
        """The account when ``password`` is right, else ``None`` (the same for unknown users).

        ``client``: who is trying (the browser's address); failures are counted per username and
        client, and per username over all clients (see the module's notes). Raises
        :class:`LoginThrottled` after too many failures, and :class:`AccountsFileMissing` when
        there is no credentials file at all.
        """
        u = normalize_username(username)
        where = str(client or "?")[:64]
        key, key_all = (str(self.path), u, where), (str(self.path), u)
        try:
            self.throttle.begin(key, u, self.clock())  # reserves a slot: attempts in flight count
            try:
                self.throttle_any_client.begin(key_all, u, self.clock())
            except LoginThrottled:
                self.throttle.release(key)
                raise
        except LoginThrottled:
            self._append_audit("login_throttled", u[:64], where)
            raise
        outcome = None
        try:
            if not self.exists():
                raise AccountsFileMissing(
                    self.path, "there is no credentials file yet, so nobody can log in",
                    f"an administrator creates the first account on the server with `{create_command(self.path)}`")
            rec = self._read().get(u)
            encoded = rec["password_hash"] if rec else _dummy_hash()
            try:
                ok = verify_password(password[:MAX_PASSWORD_CHARS + 1], encoded)
            except ValueError as exc:
                raise AccountError(self.path, f"the password hash of user {u!r} is damaged ({exc})",
                                   f"set a new password with `python -m sinks accounts passwd {u}`") from None
            outcome = ok and rec is not None
        finally:
            if outcome is None:
                self.throttle.release(key)
                self.throttle_any_client.release(key_all)
        if outcome:
            self.throttle.success(key, reserved=True)
            self.throttle_any_client.release(key_all)  # a success from one place does not clear others' failures
            self._append_audit("login", u, where)
            return self._account(rec)
        self.throttle.failure(key, self.clock(), reserved=True)
        self.throttle_any_client.failure(key_all, self.clock(), reserved=True)
        self._append_audit("login_failed", u[:64], where)
        return None

    def login(self, username: str, password: str, *, client: str | None = None) -> Session | None:
        """:meth:`authenticate`, then a new :class:`Session` (``None`` for wrong credentials)."""
        account = self.authenticate(username, password, client=client)
        return Session.start(account, self.clock()) if account else None
