"""Passkeys (WebAuthn, py_webauthn): register one while signed in, sign in with it next time.

Each ceremony's challenge is a single-use account token (kind ``pk-register`` / ``pk-sign-in``,
five minutes), stored as its digest and used up by the verification that presents it, so an
assertion cannot be replayed. The relying party is the host of ``web.public_url``; the ceremonies
themselves are ``syncd.stages.passkey_ceremony``'s (the staff console's passkeys use them too).
"""

from __future__ import annotations

from syncd.context import Context
from syncd.stages import passkey_ceremony as ceremony
from syncd.store import accounts
from syncd.store.models import Passkey

REGISTER = accounts.TokenKind.PASSKEY_REGISTER
SIGN_IN = accounts.TokenKind.PASSKEY_SIGN_IN


def _rp(ctx: Context) -> ceremony.RelyingParty:
    return ceremony.RelyingParty.of(ctx.settings.public_url)


def _remember(ctx: Context, options: ceremony.Options, kind: accounts.TokenKind, email: str | None) -> str:
    with ctx.db.transaction() as session:
        accounts.record_token(
            session,
            token_digest=accounts.digest(options.challenge_text),
            kind=kind,
            now=ctx.clock(),
            lifetime=accounts.CHALLENGE_LIFETIME,
            email=email,
        )
    return options.json


def _use_challenge(
    ctx: Context, answer: ceremony.Answer, kind: accounts.TokenKind
) -> tuple[bool, str | None]:
    """Whether the challenge the browser signed was live (it is used up now), and for whom."""
    with ctx.db.transaction() as session:
        row = accounts.consume(session, accounts.digest(answer.challenge_text), kind, ctx.clock())
        return (False, None) if row is None else (True, row.email)


def register_options(ctx: Context, email: str) -> str:
    with ctx.db.transaction() as session:
        existing = [p.credential_id for p in accounts.passkeys_of(session, email)]
    options = ceremony.registration_options(
        _rp(ctx),
        rp_name="syncd customer account",
        user_name=email,
        user_id=accounts.digest(f"user:{email}").encode()[:32],
        existing=existing,
    )
    return _remember(ctx, options, REGISTER, email)


def register(ctx: Context, email: str, credential_json: str) -> bool:
    answer = ceremony.read_answer(credential_json)
    if answer is None:
        return False
    live, issued_to = _use_challenge(ctx, answer, REGISTER)
    if not live or issued_to != email:
        return False
    made = ceremony.verify_registration(_rp(ctx), answer)
    if made is None:
        return False
    with ctx.db.transaction() as session:
        session.add(
            Passkey(
                credential_id=made.credential_id,
                email=email,
                public_key=made.public_key,
                sign_count=made.sign_count,
                created_at=ctx.clock(),
            )
        )
    return True


def sign_in_options(ctx: Context) -> str:
    return _remember(ctx, ceremony.authentication_options(_rp(ctx)), SIGN_IN, None)


def sign_in(ctx: Context, credential_json: str) -> str | None:
    """The email of the person whose passkey signed the challenge, or None."""
    answer = ceremony.read_answer(credential_json)
    if answer is None:
        return None
    with ctx.db.transaction() as session:
        key = session.get(Passkey, answer.credential_id)
        if key is None:
            return None
        public_key, count, email = key.public_key, key.sign_count, key.email
    live, _ = _use_challenge(ctx, answer, SIGN_IN)
    if not live:
        return None
    new_count = ceremony.verify_authentication(_rp(ctx), answer, public_key, count)
    if new_count is None:
        return None
    with ctx.db.transaction() as session:
        key = session.get(Passkey, answer.credential_id)
        if key is None:
            return None
        key.sign_count = new_count
        key.last_used_at = ctx.clock()
    return email


def remove(ctx: Context, email: str, credential_id: str) -> bool:
    with ctx.db.transaction() as session:
        key = session.get(Passkey, credential_id)
        if key is None or key.email != email:
            return False
        session.delete(key)
        return True
