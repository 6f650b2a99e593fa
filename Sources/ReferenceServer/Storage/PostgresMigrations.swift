import Foundation
import PostgresNIO

/// The PostgreSQL schema's history: versions 1, 2, … each a list of statements, only ever added.
/// `migrate` applies the missing ones in one transaction that first takes an advisory lock, so
/// that of several instances starting at once one applies them and the others, waiting on the
/// lock, find them applied. A database at a version this server does not know (written by a newer
/// server) is refused.
package enum PostgresMigrations {
    /// A database whose schema is newer than this server knows.
    package struct SchemaTooNew: Error, CustomStringConvertible, Equatable {
        package var found: Int
        package var known: Int
        package var description: String {
            "the PostgreSQL database's schema is at version \(found), newer than this server knows (\(known)): run a server of that version or later"
        }
    }

    /// The migrations by version (the first is version 1), each with its name.
    static let versions: [(name: String, statements: [String])] = [
        ("accounts-sessions-audit", accounts),
        ("packs-campaigns-characters-play", game),
        ("content-search", content),
        ("media", media),
    ]

    /// The versions this server knows.
    package static var known: Int { versions.count }

    /// Applies what is missing; returns the names of every applied migration, oldest first.
    @discardableResult
    static func migrate(_ database: PostgresPool) async throws -> [String] {
        try await database.transaction { connection in
            try await connection.lock(PostgresStorage.LockKey.migrations)
            try await connection.run("""
                CREATE TABLE IF NOT EXISTS rfl_schema_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at_ms BIGINT NOT NULL
                )
                """)
            let applied = Set(try await connection.rows("SELECT version FROM rfl_schema_migrations").map { try $0.get("version", as: Int.self) })
            if let newest = applied.max(), newest > versions.count { throw SchemaTooNew(found: newest, known: versions.count) }
            for (index, migration) in versions.enumerated() where !applied.contains(index + 1) {
                for statement in migration.statements { try await connection.run(PostgresQuery(unsafeSQL: statement)) }
                try await connection.run("""
                    INSERT INTO rfl_schema_migrations (version, name, applied_at_ms) VALUES (\(index + 1), \(migration.name), \(StoredTime.ms(Date())))
                    """)
            }
            return try await connection.rows("SELECT name FROM rfl_schema_migrations ORDER BY version").map { try $0.get("name", as: String.self) }
        }
    }

    /// Times are milliseconds since 1970 in BIGINT, JSON values text, as in SQLite's schema, so
    /// that both engines store the same values. Ids, and the other text that results are ordered
    /// by, compare byte by byte (`COLLATE "C"`), as SQLite's do, whatever the database's locale.
    static let accounts = [
        """
        CREATE FUNCTION rfl_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$
        """,
        """
        CREATE TABLE users (
            id TEXT COLLATE "C" PRIMARY KEY,
            username TEXT NOT NULL,
            email TEXT,
            password_hash TEXT NOT NULL,
            roles TEXT NOT NULL,
            created_at_ms BIGINT NOT NULL,
            failed_logins BIGINT NOT NULL DEFAULT 0,
            last_failed_login_at_ms BIGINT
        )
        """,
        // Usernames compare without case.
        "CREATE UNIQUE INDEX users_username ON users (lower(username))",
        """
        CREATE TABLE sessions (
            id TEXT COLLATE "C" PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at_ms BIGINT NOT NULL,
            last_used_at_ms BIGINT NOT NULL,
            expires_at_ms BIGINT NOT NULL,
            revoked_at_ms BIGINT,
            revoke_reason TEXT,
            user_agent TEXT,
            address TEXT
        )
        """,
        "CREATE INDEX sessions_by_user ON sessions (user_id, created_at_ms)",
        """
        CREATE TABLE refresh_tokens (
            token_hash TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            created_at_ms BIGINT NOT NULL,
            used_at_ms BIGINT
        )
        """,
        "CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id)",
        """
        CREATE TABLE audit_events (
            sequence BIGINT PRIMARY KEY,
            at_ms BIGINT NOT NULL,
            action TEXT NOT NULL,
            actor TEXT,
            target TEXT,
            address TEXT,
            request_id TEXT,
            details TEXT NOT NULL,
            previous_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )
        """,
        "CREATE INDEX audit_by_action ON audit_events (action, sequence)",
        "CREATE INDEX audit_by_actor ON audit_events (actor, sequence)",
        // Append-only: the application never changes or removes an event.
        """
        CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION rfl_refuse_change('the audit log is append-only')
        """,
        """
        CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION rfl_refuse_change('the audit log is append-only')
        """,
    ]

    static let game = [
        """
        CREATE TABLE packs (
            id TEXT COLLATE "C" NOT NULL,
            version TEXT COLLATE "C" NOT NULL,
            xml BYTEA NOT NULL,
            sha256 TEXT NOT NULL,
            size BIGINT NOT NULL,
            titles TEXT NOT NULL,
            language TEXT NOT NULL,
            requires TEXT NOT NULL,
            uploaded_by TEXT REFERENCES users(id) ON DELETE SET NULL,
            uploaded_at_ms BIGINT NOT NULL,
            retired_at_ms BIGINT,
            bundled BOOLEAN NOT NULL,
            PRIMARY KEY (id, version)
        )
        """,
        // A published version never changes: only its retirement may be set.
        """
        CREATE TRIGGER packs_immutable BEFORE UPDATE OF id, version, xml, sha256 ON packs
            FOR EACH ROW EXECUTE FUNCTION rfl_refuse_change('a published pack version is immutable')
        """,
        """
        CREATE TABLE campaigns (
            id TEXT COLLATE "C" PRIMARY KEY,
            name TEXT NOT NULL,
            owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            packs TEXT NOT NULL,
            created_at_ms BIGINT NOT NULL,
            archived_at_ms BIGINT
        )
        """,
        """
        CREATE TABLE campaign_members (
            campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            joined_at_ms BIGINT NOT NULL,
            PRIMARY KEY (campaign_id, user_id)
        )
        """,
        "CREATE INDEX campaign_members_by_user ON campaign_members (user_id)",
        """
        CREATE TABLE invitations (
            code_hash TEXT PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
            created_by TEXT NOT NULL,
            created_at_ms BIGINT NOT NULL,
            expires_at_ms BIGINT NOT NULL,
            max_uses BIGINT NOT NULL,
            uses BIGINT NOT NULL DEFAULT 0,
            revoked_at_ms BIGINT
        )
        """,
        "CREATE INDEX invitations_by_campaign ON invitations (campaign_id)",
        """
        CREATE TABLE characters (
            id TEXT COLLATE "C" PRIMARY KEY,
            campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
            owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            stats TEXT NOT NULL,
            sources TEXT NOT NULL,
            version BIGINT NOT NULL,
            created_at_ms BIGINT NOT NULL,
            updated_at_ms BIGINT NOT NULL
        )
        """,
        "CREATE INDEX characters_by_campaign ON characters (campaign_id, created_at_ms)",
        """
        CREATE TABLE play_sessions (
            id TEXT COLLATE "C" PRIMARY KEY,
            campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
            number BIGINT NOT NULL,
            server_seed TEXT NOT NULL,
            commitment TEXT NOT NULL,
            client_seed TEXT NOT NULL,
            started_at_ms BIGINT NOT NULL,
            ended_at_ms BIGINT,
            rolls BIGINT NOT NULL DEFAULT 0,
            UNIQUE (campaign_id, number)
        )
        """,
        // At most one open session a campaign.
        "CREATE UNIQUE INDEX play_sessions_one_open ON play_sessions (campaign_id) WHERE ended_at_ms IS NULL",
        """
        CREATE TABLE campaign_events (
            campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
            sequence BIGINT NOT NULL,
            at_ms BIGINT NOT NULL,
            kind TEXT NOT NULL,
            actor_id TEXT,
            character_id TEXT,
            session_id TEXT,
            nonce BIGINT,
            payload TEXT NOT NULL,
            idempotency_key TEXT,
            request_hash TEXT,
            PRIMARY KEY (campaign_id, sequence)
        )
        """,
        """
        CREATE UNIQUE INDEX campaign_events_idempotency ON campaign_events (campaign_id, actor_id, idempotency_key)
            WHERE idempotency_key IS NOT NULL
        """,
        "CREATE INDEX campaign_events_by_kind ON campaign_events (campaign_id, kind, sequence)",
        "CREATE INDEX campaign_events_by_character ON campaign_events (campaign_id, character_id, sequence)",
        """
        CREATE TRIGGER campaign_events_no_update BEFORE UPDATE ON campaign_events
            FOR EACH ROW EXECUTE FUNCTION rfl_refuse_change('the campaign log is append-only')
        """,
    ]

    /// Content and its index. Search uses a text search configuration of its own: PostgreSQL's
    /// `simple` (no stemming, no stop words, as FTS5's `unicode61`) with `unaccent` before it, so
    /// that `cafe` finds `café` and the highlighting of the original text matches the same words.
    static let content = [
        "CREATE EXTENSION IF NOT EXISTS unaccent",
        "CREATE TEXT SEARCH CONFIGURATION rfl_search (COPY = pg_catalog.simple)",
        "ALTER TEXT SEARCH CONFIGURATION rfl_search ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple",
        """
        CREATE TABLE content_entries (
            id TEXT COLLATE "C" PRIMARY KEY,
            kind TEXT NOT NULL,
            cms_id TEXT NOT NULL,
            published BOOLEAN NOT NULL,
            data TEXT NOT NULL,
            updated_at_ms BIGINT NOT NULL,
            cms_updated_at_ms BIGINT
        )
        """,
        """
        CREATE TABLE cms_events (
            event_id TEXT PRIMARY KEY,
            event TEXT NOT NULL,
            entry_id TEXT NOT NULL,
            received_at_ms BIGINT NOT NULL
        )
        """,
        // The CMS's time of deleted entries, so that late events do not bring them back.
        """
        CREATE TABLE content_deleted (
            id TEXT COLLATE "C" PRIMARY KEY,
            cms_updated_at_ms BIGINT NOT NULL
        )
        """,
        // Tags filter results, compared without case; they are not searched as words.
        """
        CREATE TABLE content_tags (
            entry_id TEXT NOT NULL,
            tag TEXT NOT NULL,
            PRIMARY KEY (entry_id, tag)
        )
        """,
        "CREATE INDEX content_tags_by_tag ON content_tags (tag, entry_id)",
        // One row per entry and language (or pack text), with its words weighted: the title A,
        // the body B.
        """
        CREATE TABLE search_rows (
            id BIGSERIAL PRIMARY KEY,
            entry_id TEXT COLLATE "C" NOT NULL,
            pack_id TEXT,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            tags TEXT NOT NULL,
            kind TEXT NOT NULL,
            lang TEXT NOT NULL,
            ref TEXT NOT NULL,
            document TSVECTOR NOT NULL
        )
        """,
        "CREATE INDEX search_rows_document ON search_rows USING GIN (document)",
        "CREATE INDEX search_rows_by_entry ON search_rows (entry_id)",
        "CREATE INDEX search_rows_by_pack ON search_rows (pack_id) WHERE pack_id IS NOT NULL",
    ]

    static let media = [
        """
        CREATE TABLE media (
            id TEXT COLLATE "C" PRIMARY KEY,
            owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            sha256 TEXT COLLATE "C" NOT NULL,
            size BIGINT NOT NULL,
            content_type TEXT NOT NULL,
            created_at_ms BIGINT NOT NULL
        )
        """,
        "CREATE INDEX media_by_owner ON media (owner_id, created_at_ms)",
        "CREATE INDEX media_by_content ON media (sha256)",
    ]
}
