"""Schema migrations for peerreview, applied in order by sqlite-utils.

This module imports only sqlite_utils and the standard library so that
``sqlite-utils migrate instance/peerreview.db migrations/`` works as well as
``flask db migrate``. An applied migration is never edited: add the next one.
"""

from sqlite_utils import Migrations

migrations = Migrations("peerreview")


@migrations()
def m001_accounts_and_organisations(db):
    db["users"].create(
        {
            "id": int,
            "email": str,
            "name": str,
            "password_hash": str,
            "is_admin": int,
            "active": int,
            "session_version": int,
            "created_at": str,
        },
        pk="id",
        not_null={"email", "name", "is_admin", "active", "session_version"},
        defaults={"is_admin": 0, "active": 1, "session_version": 1},
    )
    db["users"].create_index(["email"], unique=True)

    db["partnerships"].create(
        {"id": int, "name": str, "kind": str, "created_at": str},
        pk="id",
        not_null={"name", "kind"},
    )
    db["partnerships"].create_index(["name"], unique=True)
    db["schools"].create(
        {
            "id": int,
            "name": str,
            "urn": str,
            "phase": str,
            "pupils": int,
            "postcode": str,
            "created_at": str,
        },
        pk="id",
        not_null={"name", "urn", "phase"},
    )
    db["schools"].create_index(["urn"], unique=True)
    db["partnership_schools"].create(
        {"partnership_id": int, "school_id": int},
        pk=("partnership_id", "school_id"),
        foreign_keys=[
            ("partnership_id", "partnerships", "id"),
            ("school_id", "schools", "id"),
        ],
    )
    db["partnership_schools"].create_index(["school_id"])
    db["teams"].create(
        {
            "id": int,
            "name": str,
            "kind": str,  # slt | board
            "school_id": int,  # a school's senior leadership team
            "partnership_id": int,  # a trust board
            "created_at": str,
        },
        pk="id",
        not_null={"name", "kind"},
        foreign_keys=[
            ("school_id", "schools", "id"),
            ("partnership_id", "partnerships", "id"),
        ],
    )
    db["teams"].create_index(["school_id"])
    db["teams"].create_index(["partnership_id"])
    # A role is scoped to one organisation: scope_type is "platform",
    # "partnership", "team" or "school".
    db["roles"].create(
        {
            "id": int,
            "user_id": int,
            "role": str,
            "scope_type": str,
            "scope_id": int,
            "created_at": str,
        },
        pk="id",
        not_null={"user_id", "role", "scope_type", "scope_id"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["roles"].create_index(["user_id", "role", "scope_type", "scope_id"], unique=True)
    db["roles"].create_index(["scope_type", "scope_id"])
    db["invitations"].create(
        {
            "id": int,
            "token_hash": str,
            "purpose": str,  # invite | reset
            "email": str,
            "name": str,
            "role": str,
            "scope_type": str,
            "scope_id": int,
            "user_id": int,
            "created_by": int,
            "created_at": str,
            "expires_at": str,
            "used_at": str,
        },
        pk="id",
        not_null={"token_hash", "purpose", "email", "created_at", "expires_at"},
        foreign_keys=[("user_id", "users", "id"), ("created_by", "users", "id")],
    )
    db["invitations"].create_index(["token_hash"], unique=True)
    db["login_attempts"].create(
        {"id": int, "email": str, "ip": str, "at": float, "success": int},
        pk="id",
    )
    db["login_attempts"].create_index(["email", "at"])
    db["login_attempts"].create_index(["ip", "at"])
    db["audit_log"].create(
        {
            "id": int,
            "at": str,
            "actor_id": int,
            "action": str,
            "object_type": str,
            "object_id": int,
            "detail": str,
        },
        pk="id",
        not_null={"at", "action"},
    )
    db["audit_log"].create_index(["object_type", "object_id"])


@migrations()
def m002_instruments_and_cycles(db):
    # A snapshot of one instrument version as it was when first used.
    db["instrument_versions"].create(
        {
            "id": int,
            "instrument_id": str,
            "version": str,
            "content_hash": str,
            "title": str,
            "snapshot": str,  # JSON
            "created_at": str,
        },
        pk="id",
        not_null={"instrument_id", "version", "content_hash", "snapshot"},
    )
    db["instrument_versions"].create_index(["content_hash"], unique=True)
    db["instrument_versions"].create_index(["instrument_id", "version"])
    # Instruments uploaded in the browser; partnership_id None = platform-wide.
    db["instrument_uploads"].create(
        {
            "id": int,
            "instrument_id": str,
            "version": str,
            "partnership_id": int,
            "filename": str,
            "yaml": str,
            "content_hash": str,
            "uploaded_by": int,
            "uploaded_at": str,
        },
        pk="id",
        not_null={"instrument_id", "version", "yaml", "content_hash"},
        foreign_keys=[
            ("partnership_id", "partnerships", "id"),
            ("uploaded_by", "users", "id"),
        ],
    )
    db["instrument_uploads"].create_index(["instrument_id", "version"])
    db["peer_rounds"].create(
        {
            "id": int,
            "partnership_id": int,
            "instrument_id": str,
            "title": str,
            "starts_on": str,
            "ends_on": str,
            "created_by": int,
            "created_at": str,
        },
        pk="id",
        not_null={"partnership_id", "instrument_id", "title"},
        foreign_keys=[("partnership_id", "partnerships", "id")],
    )
    db["cycles"].create(
        {
            "id": int,
            "kind": str,  # self | peer
            "state": str,  # draft | open | moderation | agreed | closed
            "title": str,
            "instrument_version_id": int,
            "team_id": int,  # the team evaluated (self) or the host's team (peer)
            "partnership_id": int,  # partnership the cycle runs under
            "peer_round_id": int,
            "lead_id": int,  # team lead, or lead reviewer
            "anonymous": int,
            "closes_on": str,
            "created_by": int,
            "created_at": str,
            "opened_at": str,
            "moderation_at": str,
            "agreed_at": str,
            "closed_at": str,
        },
        pk="id",
        not_null={"kind", "state", "title", "instrument_version_id", "team_id"},
        defaults={"anonymous": 0},
        foreign_keys=[
            ("instrument_version_id", "instrument_versions", "id"),
            ("team_id", "teams", "id"),
            ("partnership_id", "partnerships", "id"),
            ("peer_round_id", "peer_rounds", "id"),
            ("lead_id", "users", "id"),
        ],
    )
    db["cycles"].create_index(["team_id", "kind", "state"])
    db["cycles"].create_index(["partnership_id"])
    db["cycles"].create_index(["peer_round_id"])
    db["cycle_respondents"].create(
        {"cycle_id": int, "user_id": int, "submitted_at": str},
        pk=("cycle_id", "user_id"),
        foreign_keys=[("cycle_id", "cycles", "id"), ("user_id", "users", "id")],
    )
    db["cycle_respondents"].create_index(["user_id"])
    # value is a scale point code, "na" (not applicable), "ne" (no evidence
    # yet) or NULL (not answered yet but a comment was typed).
    db["responses"].create(
        {
            "id": int,
            "cycle_id": int,
            "respondent_id": int,
            "item_id": str,
            "value": str,
            "comment": str,
            "evidence": str,
            "revision": int,
            "updated_at": str,
        },
        pk="id",
        not_null={"cycle_id", "respondent_id", "item_id", "revision"},
        defaults={"revision": 1, "comment": "", "evidence": ""},
        foreign_keys=[
            ("cycle_id", "cycles", "id"),
            ("respondent_id", "users", "id"),
        ],
    )
    db["responses"].create_index(["cycle_id", "respondent_id", "item_id"], unique=True)
    db["agreed_scores"].create(
        {
            "cycle_id": int,
            "item_id": str,
            "value": str,
            "rationale": str,
            "deferred": int,
            "recorded_by": int,
            "recorded_at": str,
            "revision": int,
        },
        pk=("cycle_id", "item_id"),
        not_null={"deferred", "revision"},
        defaults={"deferred": 0, "revision": 1, "rationale": ""},
        foreign_keys=[("cycle_id", "cycles", "id"), ("recorded_by", "users", "id")],
    )
    db["agreed_score_history"].create(
        {
            "id": int,
            "cycle_id": int,
            "item_id": str,
            "old_value": str,
            "new_value": str,
            "old_deferred": int,
            "new_deferred": int,
            "rationale": str,
            "changed_by": int,
            "changed_at": str,
        },
        pk="id",
        foreign_keys=[("cycle_id", "cycles", "id")],
    )
    db["agreed_score_history"].create_index(["cycle_id", "item_id"])


@migrations()
def m003_peer_review(db):
    # One row per host in a peer-review round: the peer cycle, the host school
    # and the agreed self-evaluation it is compared with.
    db["peer_reviews"].create(
        {
            "cycle_id": int,
            "round_id": int,
            "school_id": int,
            "self_cycle_id": int,
            "pairs_stamp": str,  # when peer_pairs was filled for this review
        },
        pk="cycle_id",
        not_null={"round_id", "school_id", "self_cycle_id"},
        foreign_keys=[
            ("cycle_id", "cycles", "id"),
            ("round_id", "peer_rounds", "id"),
            ("school_id", "schools", "id"),
            ("self_cycle_id", "cycles", "id"),
        ],
    )
    db["peer_reviews"].create_index(["round_id", "school_id"], unique=True)
    db["peer_reviews"].create_index(["school_id"])
    db["peer_rounds"].create_index(["partnership_id", "instrument_id"])
    # The numeric value of each answer code per item of a snapshot (reverse
    # items already turned round), so comparisons aggregate in SQL.
    db["snapshot_values"].create(
        {
            "version_id": int,
            "item_id": str,
            "code": str,
            "section_id": str,
            "value": float,
        },
        pk=("version_id", "item_id", "code"),
        not_null={"section_id", "value"},
        foreign_keys=[("version_id", "instrument_versions", "id")],
    )
    # A cache of comparable items, one row per item of an agreed peer review:
    # the agreed self and peer values side by side, refilled when either cycle
    # is agreed again (see partnership.comparison.refresh), so the partnership
    # page aggregates one narrow table.
    db["peer_pairs"].create(
        {
            "cycle_id": int,
            "item_id": str,
            "round_id": int,
            "school_id": int,
            "section_id": str,
            "self_value": float,
            "peer_value": float,
        },
        pk=("cycle_id", "item_id"),
        not_null={"round_id", "school_id", "section_id", "self_value", "peer_value"},
        foreign_keys=[("cycle_id", "cycles", "id")],
    )
    db["peer_pairs"].create_index(
        ["round_id", "school_id", "section_id", "self_value", "peer_value"]
    )
    db["peer_pairs"].create_index(["round_id", "item_id", "peer_value", "self_value"])


@migrations()
def m004_action_plans_and_reports(db):
    # One action plan per agreed self-evaluation cycle, drafted by its lead.
    db["action_plans"].create(
        {
            "id": int,
            "cycle_id": int,
            "team_id": int,
            "created_by": int,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"cycle_id", "team_id"},
        foreign_keys=[
            ("cycle_id", "cycles", "id"),
            ("team_id", "teams", "id"),
            ("created_by", "users", "id"),
        ],
    )
    db["action_plans"].create_index(["cycle_id"], unique=True)
    db["action_plans"].create_index(["team_id"])
    db["plan_actions"].create(
        {
            "id": int,
            "plan_id": int,
            "position": int,
            "title": str,
            "item_ids": str,  # JSON list of the items the action addresses
            "owner_id": int,
            "starts_on": str,
            "due_on": str,
            "resources": str,
            "success_criteria": str,
            "impact_measure": str,
            "status": str,  # not_started | on_track | at_risk | done
            "source": str,  # proposed | own | merged
            "revision": int,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"plan_id", "position", "title", "item_ids", "status", "revision"},
        defaults={
            "status": "not_started",
            "revision": 1,
            "resources": "",
            "success_criteria": "",
            "impact_measure": "",
        },
        foreign_keys=[("plan_id", "action_plans", "id"), ("owner_id", "users", "id")],
    )
    db["plan_actions"].create_index(["plan_id", "position"])
    db["action_notes"].create(
        {
            "id": int,
            "action_id": int,
            "noted_on": str,
            "note": str,
            "author_id": int,
            "created_at": str,
        },
        pk="id",
        not_null={"action_id", "noted_on", "note"},
        foreign_keys=[
            ("action_id", "plan_actions", "id"),
            ("author_id", "users", "id"),
        ],
    )
    db["action_notes"].create_index(["action_id"])


@migrations()
def m005_responses_counted_by_item(db):
    # Scoring counts a cycle's answers per (item, value) in SQL
    # (results.service.counted_answers); this index lets SQLite count them
    # from the index alone, in order, without sorting.
    db["responses"].create_index(["cycle_id", "item_id", "value", "respondent_id"])


@migrations()
def m006_respondent_letters(db):
    # The letter each respondent has in an anonymous cycle: shuffled at random
    # once per cycle and kept, so it follows neither account order nor the
    # order of answers (peerreview.cycles.moderation.letters). Cycles that
    # already reached moderation get theirs now.
    import random

    db["respondent_letters"].create(
        {"cycle_id": int, "user_id": int, "letter": str},
        pk=("cycle_id", "user_id"),
        not_null={"letter"},
        foreign_keys=[("cycle_id", "cycles", "id"), ("user_id", "users", "id")],
    )
    db["respondent_letters"].create_index(["cycle_id", "letter"], unique=True)
    shuffle = random.SystemRandom().shuffle
    people: dict[int, set] = {}
    for cycle_id, user_id in db.execute(
        "SELECT cycle_id, user_id FROM cycle_respondents UNION "
        "SELECT DISTINCT cycle_id, respondent_id FROM responses"
    ).fetchall():
        people.setdefault(cycle_id, set()).add(user_id)
    rows = []
    for cycle_id, users in people.items():
        order = sorted(users)
        shuffle(order)
        rows.extend(
            {"cycle_id": cycle_id, "user_id": uid, "letter": _m006_letter(n)}
            for n, uid in enumerate(order)
        )
    db["respondent_letters"].insert_all(rows)


def _m006_letter(n: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[n] if n < 26 else letters[n // 26 - 1] + letters[n % 26]


@migrations()
def m007_audit_client_address(db):
    # The client's address (the real one behind a proxy: PEERREVIEW_PROXY_COUNT)
    # of the request that made each audit entry; null from the command line.
    db["audit_log"].add_column("ip", str)


@migrations()
def m010_plan_carries(db):
    # When a team drafts the plan of its next cycle of the same instrument,
    # each unfinished action of the previous plan is carried (copied into the
    # new plan, linked here) or closed, with the lead's reason.
    db["plan_carries"].create(
        {
            "id": int,
            "plan_id": int,  # the new plan
            "from_action_id": int,  # the unfinished action of the previous plan
            "action_id": int,  # the action it became (None once closed)
            "decision": str,  # carried | closed
            "reason": str,
            "decided_by": int,
            "decided_at": str,
        },
        pk="id",
        not_null={"plan_id", "from_action_id", "decision", "reason", "decided_at"},
        defaults={"reason": ""},
        foreign_keys=[
            ("plan_id", "action_plans", "id"),
            ("from_action_id", "plan_actions", "id"),
            ("action_id", "plan_actions", "id"),
            ("decided_by", "users", "id"),
        ],
    )
    db["plan_carries"].create_index(["plan_id", "from_action_id"], unique=True)
    db["plan_carries"].create_index(["from_action_id"])
    db["plan_carries"].create_index(["action_id"])


@migrations()
def m011_schools_from_gias_and_imports(db):
    # What Get Information about Schools says of a school beside its phase,
    # and its British National Grid position (metres) from its postcode,
    # looked up once (Code-Point Open); NULL when the postcode is not found.
    db["schools"].add_column("establishment_type", str)
    db["schools"].add_column("trust", str)
    db["schools"].add_column("easting", int)
    db["schools"].add_column("northing", int)
    # An upload checked and shown as a preview, kept until its uploader
    # confirms it (or it expires), so nothing is written before then and the
    # rows never travel back through the browser.
    db["import_batches"].create(
        {
            "id": int,
            "token_hash": str,
            "kind": str,  # schools | people
            "created_by": int,
            "scope_type": str,  # platform | partnership | team
            "scope_id": int,
            "filename": str,
            "payload": str,  # JSON: the parsed rows and the unusable ones
            "created_at": str,
            "used_at": str,
        },
        pk="id",
        not_null={"token_hash", "kind", "created_by", "payload", "created_at"},
        foreign_keys=[("created_by", "users", "id")],
    )
    db["import_batches"].create_index(["token_hash"], unique=True)


@migrations()
def m012_second_factor(db):
    # Two-step sign-in with a time-based one-time code (TOTP, RFC 6238).
    # The secret has to be readable to check a code; totp_last_step is the
    # last 30-second step a code was accepted for, so a code works once.
    # totp_pending is the secret shown while someone is setting it up.
    db["users"].add_column("totp_secret", str)
    db["users"].add_column("totp_enrolled_at", str)
    db["users"].add_column("totp_last_step", int)
    db["users"].add_column("totp_pending", str)
    # Ten single-use recovery codes each, stored as argon2 hashes.
    db["recovery_codes"].create(
        {
            "id": int,
            "user_id": int,
            "code_hash": str,
            "created_at": str,
            "used_at": str,
        },
        pk="id",
        not_null={"user_id", "code_hash", "created_at"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["recovery_codes"].create_index(["user_id"])
    # A sign-in waiting for its second step (or for set-up of one), kept here
    # so the limit on guesses cannot be reset by dropping a cookie.
    db["sign_in_challenges"].create(
        {
            "id": int,
            "token_hash": str,
            "user_id": int,
            "password_ok": int,
            "slowed": int,  # asked after many failures: says nothing of the password
            "purpose": str,  # code | enrol
            "guesses": int,
            "ip": str,
            "created_at": float,
            "done_at": float,
        },
        pk="id",
        not_null={"token_hash", "user_id", "password_ok", "purpose", "created_at"},
        defaults={"guesses": 0, "slowed": 0},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["sign_in_challenges"].create_index(["token_hash"], unique=True)
    # Wrong second-step codes count towards the per-address limit too.
    db["login_attempts"].add_column("kind", str, not_null_default="password")
    db["login_attempts"].create_index(["email", "kind", "at"])


@migrations()
def m012_reset_links_replaced(db):
    # When a newer password-reset link is issued for an account, the older
    # ones stop working: this says when, so the old link can say why.
    db["invitations"].add_column("replaced_at", str)


@migrations()
def m014_peer_compares_self_current_at_close(db):
    # A peer review compares with the host's self-evaluation that was current
    # when the reviewers' ratings closed (peer.service.pin_self_evaluation),
    # not the one chosen when the round was planned nor one agreed later.
    rows = db.execute(
        """
        SELECT pr.cycle_id, (
          SELECT s.id FROM cycles s
          JOIN instrument_versions sv ON sv.id = s.instrument_version_id
          WHERE s.team_id = c.team_id AND s.kind = 'self'
            AND sv.instrument_id = r.instrument_id
            AND s.state IN ('agreed', 'closed') AND s.agreed_at <= c.moderation_at
          ORDER BY s.agreed_at DESC, s.id DESC LIMIT 1
        )
        FROM peer_reviews pr JOIN cycles c ON c.id = pr.cycle_id
        JOIN peer_rounds r ON r.id = pr.round_id
        WHERE c.moderation_at IS NOT NULL
        """
    ).fetchall()
    for review_id, self_cycle_id in rows:
        if self_cycle_id is not None:
            db["peer_reviews"].update(review_id, {"self_cycle_id": self_cycle_id})


@migrations()
def m016_peer_titles_without_school(db):
    # A peer review is titled by its round alone: every page already names
    # the school beside it, so "…: peer review of <school>" said it twice.
    db.execute(
        "UPDATE cycles SET title = (SELECT r.title FROM peer_rounds r "
        "WHERE r.id = cycles.peer_round_id) "
        "WHERE kind = 'peer' AND peer_round_id IS NOT NULL "
        "AND title LIKE '%: peer review of %'"
    )


@migrations()
def m016_reminders(db):
    # A person may turn email reminders off; every reminder sent is kept, so
    # a lead sees who was reminded when and nobody gets the same one twice.
    db["users"].add_column("reminders_off", int, not_null_default=0)
    db["reminders"].create(
        {
            "id": int,
            "kind": str,  # closing | visit | overdue
            "ref": str,  # the cycle id, or the ISO week of an overdue digest
            "user_id": int,
            "cycle_id": int,
            "sent_at": str,
        },
        pk="id",
        not_null={"kind", "ref", "user_id", "sent_at"},
        foreign_keys=[("user_id", "users", "id"), ("cycle_id", "cycles", "id")],
    )
    db["reminders"].create_index(["kind", "user_id", "ref"], unique=True)
    db["reminders"].create_index(["cycle_id"])


@migrations()
def m016_calendar_feed(db):
    # The SHA-256 of a person's secret calendar feed token; NULL: no feed.
    db["users"].add_column("calendar_token_hash", str)
    db["users"].create_index(["calendar_token_hash"])


@migrations()
def m017_evidence(db):
    # A note, a link or a file a school keeps for a cycle. A file's bytes are
    # in evidence_chunks (1 MB rows, each written in its own short
    # transaction), so the one backup and the one replica hold them; the
    # evidence row is committed last and names its chunks by `blob`.
    db["evidence"].create(
        {
            "id": int,
            "cycle_id": int,  # the cycle it was added for
            "team_id": int,
            "school_id": int,  # NULL for a trust board's evidence
            "kind": str,  # note | link | file
            "title": str,
            "note": str,
            "url": str,
            "filename": str,
            "media_type": str,
            "size": int,
            "sha256": str,
            "blob": str,
            "added_by": int,
            "added_at": str,
        },
        pk="id",
        not_null={"cycle_id", "team_id", "kind", "title", "added_at"},
        defaults={"size": 0, "note": ""},
        foreign_keys=[
            ("cycle_id", "cycles", "id"),
            ("team_id", "teams", "id"),
            ("school_id", "schools", "id"),
            ("added_by", "users", "id"),
        ],
    )
    db["evidence"].create_index(["cycle_id"])
    db["evidence"].create_index(["school_id"])
    db["evidence"].create_index(["team_id"])
    db["evidence_chunks"].create(
        {"blob": str, "seq": int, "data": bytes},
        pk=("blob", "seq"),
        not_null={"data"},
    )
    # Which items of which cycle a piece of evidence is linked to (a piece
    # can serve several items, and be linked again in a later cycle).
    db["evidence_items"].create(
        {"evidence_id": int, "cycle_id": int, "item_id": str},
        pk=("evidence_id", "cycle_id", "item_id"),
        foreign_keys=[("evidence_id", "evidence", "id"), ("cycle_id", "cycles", "id")],
    )
    db["evidence_items"].create_index(["cycle_id", "item_id"])
    # Peer verification: the host shows a piece to the reviewers of a peer
    # cycle; each reviewer marks it supports | not_supports | not_seen.
    db["peer_evidence"].create(
        {"cycle_id": int, "evidence_id": int, "shown_by": int, "shown_at": str},
        pk=("cycle_id", "evidence_id"),
        foreign_keys=[("cycle_id", "cycles", "id"), ("evidence_id", "evidence", "id")],
    )
    db["evidence_checks"].create(
        {
            "cycle_id": int,
            "evidence_id": int,
            "reviewer_id": int,
            "verdict": str,
            "checked_at": str,
        },
        pk=("cycle_id", "evidence_id", "reviewer_id"),
        not_null={"verdict"},
        foreign_keys=[
            ("cycle_id", "cycles", "id"),
            ("evidence_id", "evidence", "id"),
            ("reviewer_id", "users", "id"),
        ],
    )


@migrations()
def m017_peer_findings(db):
    # The reviewers' findings per section of a peer review, in the form
    # partner schools use: "What went well" and "Even better if".
    db["peer_findings"].create(
        {
            "cycle_id": int,
            "section_id": str,
            "went_well": str,
            "even_better_if": str,
            "updated_by": int,
            "updated_at": str,
        },
        pk=("cycle_id", "section_id"),
        defaults={"went_well": "", "even_better_if": ""},
        foreign_keys=[("cycle_id", "cycles", "id"), ("updated_by", "users", "id")],
    )
    # An area of excellence the host nominates (a section of the instrument)
    # and the reviewers confirm or not.
    db["excellence_nominations"].create(
        {
            "cycle_id": int,
            "section_id": str,
            "case": str,
            "nominated_by": int,
            "nominated_at": str,
            "verdict": str,  # NULL until decided | confirmed | not_confirmed
            "reason": str,
            "decided_by": int,
            "decided_at": str,
        },
        pk=("cycle_id", "section_id"),
        defaults={"case": "", "reason": ""},
        foreign_keys=[
            ("cycle_id", "cycles", "id"),
            ("nominated_by", "users", "id"),
            ("decided_by", "users", "id"),
        ],
    )


@migrations()
def m018_sign_in_links(db):
    # Sign in with the school's own Microsoft or Google account (OpenID
    # Connect): which provider's subject is which person, linked on their
    # first sign-in by a verified email. A subject is unique per issuer.
    db["sign_in_links"].create(
        {
            "id": int,
            "user_id": int,
            "provider": str,  # microsoft | google
            "issuer": str,
            "subject": str,
            "email": str,  # the verified email it was linked by
            "linked_at": str,
            "last_used_at": str,
        },
        pk="id",
        not_null={"user_id", "provider", "issuer", "subject", "linked_at"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["sign_in_links"].create_index(["issuer", "subject"], unique=True)
    db["sign_in_links"].create_index(["user_id", "provider"], unique=True)


@migrations()
def m020_evidence_reuse_and_edits(db):
    # A piece brought into a later cycle is a row of its own (so editing it
    # there never changes what an earlier cycle, or its peer reviewers, saw)
    # naming the same blob: the bytes are stored once. reused_from is the
    # first piece of the line, so a piece is never brought in twice.
    db["evidence"].add_column("reused_from", int)
    # Edits carry the revision the editor loaded: a stale one is a conflict.
    db["evidence"].add_column("revision", int, not_null_default=1)
    db["evidence"].add_column("edited_by", int)
    db["evidence"].add_column("edited_at", str)
    # Whether any piece still names a blob (removal, replacement, the sweep).
    db["evidence"].create_index(["blob"])


@migrations()
def m022_second_factor_secrets_sealed(db):
    # TOTP secrets were stored readable: anyone with a copy of the database
    # could make everyone's codes. They are sealed now (Fernet) with a key
    # kept out of the database (peerreview/accounts/second_factor_key.py);
    # this seals the ones already there, so nobody has to set theirs up
    # again. Sealing needs the `cryptography` package and the key, so this
    # one migration imports the project (with the key from
    # PEERREVIEW_SECOND_FACTOR_KEY or instance/second_factor_key, made here
    # if there is none yet); with no secret to seal it touches nothing.
    if not db.execute(
        "SELECT 1 FROM users WHERE totp_secret IS NOT NULL "
        "OR totp_pending IS NOT NULL LIMIT 1"
    ).fetchone():
        return
    import pathlib
    import sys

    root = str(pathlib.Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from peerreview.accounts import second_factor_key

    if (
        not second_factor_key.count_sealed(db)
        and not second_factor_key.configured_keys()
    ):
        second_factor_key.create_file()
    second_factor_key.seal_plain(db, second_factor_key.box())


@migrations()
def m022_sign_in_challenges_for_any_address(db):
    # After many wrong passwords for an email address, every sign-in to it
    # goes on to the code page, whether the account exists, has a second
    # factor or not, so the answer tells a guesser nothing: such a
    # challenge names the email address, and an account only when the
    # password was right.
    db["sign_in_challenges"].add_column("email", str)
    db["sign_in_challenges"].transform(not_null={"user_id": False})
