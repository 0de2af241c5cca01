/**
 * Refresh tokens and sessions (RFC 9700 §4.14: rotation with reuse detection).
 *
 * A refresh token is 32 random bytes (base64url), given to the client once and stored only as its
 * SHA-256. Each row of `sessions` is one refresh token; the rows created from one login form a
 * family, and the family is what a user sees as "a session" (its id is the `sid` in access tokens).
 * Refreshing spends the presented row (a conditional update on `revokedAt: null`, so of two
 * concurrent refreshes only one wins) and adds the next row to the family. Presenting a spent token
 * again means it was copied: the whole family is revoked.
 *
 * The successor row is inserted before the spend: whoever loses a race (a second refresh, a logout,
 * a password change) revokes the family after the successor exists, so it cannot survive the revocation.
 *
 * Retries: a row records the attempt that issued it (`issuedFor`, see lib/attempt.ts). When a node dies
 * after spending a token but before answering, the retried call presents the now-spent token again;
 * if its successor was issued for this very attempt, the client never received it, so it is replaced
 * rather than treated as reuse. Likewise a retried login first revokes the session its lost attempt
 * started.
 *
 * Every revocation that ends a session reports the session ids to `onRevoke`, so that the access tokens
 * already issued for them stop working too (lib/revocations.ts). Only the lost attempt of a retried
 * login is not reported: its tokens never reached the client.
 */
import { createHash, randomBytes } from "node:crypto";
import { InvalidRefreshTokenError, RefreshTokenReusedError } from "../../lib/errors";
import type { CollectionOf } from "../../mixins/collection";
import { newId } from "../../mixins/db.mixin";

export interface SessionRow {
	id: string;
	userId: string;
	familyId: string;
	familyCreatedAt: string;
	tokenHash: string;
	tenantId: string | null;
	createdAt: string;
	expiresAt: string;
	revokedAt: string | null;
	replacedBy: string | null;
	userAgent: string | null;
	ip: string | null;
	/** the call attempt that issued this row (lib/attempt.ts), so a retry of it is recognised */
	issuedFor?: string | null;
}

/** What a user sees of a session: never the token or its hash. */
export interface PublicSession {
	id: string;
	tenantId: string | null;
	createdAt: string;
	lastRefreshedAt: string;
	expiresAt: string;
	userAgent: string | null;
	ip: string | null;
	current: boolean;
}

export const sha256 = (value: string): string => createHash("sha256").update(value).digest("base64url");
export const newOpaqueToken = (): string => randomBytes(32).toString("base64url");

export interface RotateOptions {
	/** move the session to another tenant in the same step (switch-tenant) */
	tenantId?: string | null;
	onReuse?: (row: SessionRow) => void;
	/** the call attempt (lib/attempt.ts): a retry of the attempt that spent the token is not reuse */
	attempt?: string | null;
}

export class SessionStore {
	constructor(
		private readonly rows: CollectionOf<SessionRow>,
		private readonly ttlSec: number,
		/** told which sessions (families) a revocation ended; awaited, so a revocation is announced before it is answered */
		private readonly onRevoke: (familyIds: string[]) => Promise<void> = async () => undefined,
	) {}

	/** A new session (family) for a login; returns the row and the refresh token to hand out. */
	async start(userId: string, tenantId: string | null, client: { userAgent?: string | null; ip?: string | null }, attempt: string | null = null) {
		// The session of a lost first attempt of this very login never reached the client.
		if (attempt) await this.rows.update({ userId, issuedFor: attempt, revokedAt: null }, { revokedAt: new Date().toISOString() });
		const familyId = newId();
		return this.issue({
			userId,
			familyId,
			familyCreatedAt: new Date().toISOString(),
			tenantId,
			userAgent: client.userAgent ?? null,
			ip: client.ip ?? null,
			issuedFor: attempt,
		});
	}

	private async issue(base: Pick<SessionRow, "userId" | "familyId" | "familyCreatedAt" | "tenantId" | "userAgent" | "ip" | "issuedFor">) {
		const token = newOpaqueToken();
		const row = await this.rows.insert({
			...base,
			tokenHash: sha256(token),
			expiresAt: new Date(Date.now() + this.ttlSec * 1000).toISOString(),
			revokedAt: null,
			replacedBy: null,
		});
		return { row, token };
	}

	/**
	 * Spends a refresh token and returns its successor (same family). `tenantId` lets the caller move
	 * the session to another tenant (switch-tenant) in the same step.
	 */
	async rotate(token: string, opts: RotateOptions = {}) {
		const row = await this.rows.findOne({ tokenHash: sha256(token) });
		if (!row) throw new InvalidRefreshTokenError();
		if (row.revokedAt) {
			if (row.replacedBy && opts.attempt) {
				const successor = await this.rows.findOne({ id: row.replacedBy });
				if (successor && successor.issuedFor === opts.attempt && !successor.revokedAt) return this.replace(successor, opts);
			}
			if (row.replacedBy) {
				await this.revokeFamily(row.familyId);
				opts.onReuse?.(row);
				throw new RefreshTokenReusedError();
			}
			throw new InvalidRefreshTokenError("The session has ended. Sign in again.");
		}
		if (Date.parse(row.expiresAt) <= Date.now()) throw new InvalidRefreshTokenError("The refresh token has expired. Sign in again.");
		return this.replace(row, opts);
	}

	/** Spends a live row and returns its successor in the same family. */
	async replace(row: SessionRow, opts: RotateOptions = {}) {
		const next = await this.issue({
			userId: row.userId,
			familyId: row.familyId,
			familyCreatedAt: row.familyCreatedAt,
			tenantId: opts.tenantId === undefined ? row.tenantId : opts.tenantId,
			userAgent: row.userAgent,
			ip: row.ip,
			issuedFor: opts.attempt ?? null,
		});
		const spent = await this.rows.update({ id: row.id, revokedAt: null }, { revokedAt: new Date().toISOString(), replacedBy: next.row.id });
		if (spent !== 1) {
			// Someone spent or revoked it between our read and our write.
			await this.revokeFamily(row.familyId);
			opts.onReuse?.(row);
			throw new RefreshTokenReusedError();
		}
		return next;
	}

	/** The live row of a session (family) of this user, or null. */
	async active(userId: string, familyId: string): Promise<SessionRow | null> {
		const row = await this.rows.findOne({ userId, familyId, revokedAt: null });
		return row && Date.parse(row.expiresAt) > Date.now() ? row : null;
	}

	async revokeFamily(familyId: string): Promise<number> {
		const revoked = await this.rows.update({ familyId, revokedAt: null }, { revokedAt: new Date().toISOString() });
		if (revoked) await this.onRevoke([familyId]);
		return revoked;
	}

	/** Revokes every session of the user, but the one named in `except`; how many sessions ended. */
	async revokeUser(userId: string, except?: string): Promise<number> {
		const query: Record<string, unknown> = { userId, revokedAt: null };
		if (except) query.familyId = { $ne: except };
		// A mark of this very revocation, to find afterwards which sessions it ended.
		const at = new Date().toISOString();
		if (!(await this.rows.update(query, { revokedAt: at }))) return 0;
		const ended = [...new Set((await this.rows.find({ userId, revokedAt: at })).map(r => r.familyId))].filter(f => f !== except);
		if (ended.length) await this.onRevoke(ended);
		return ended.length;
	}

	async list(userId: string, currentFamilyId?: string): Promise<PublicSession[]> {
		const rows = await this.rows.find({ userId, revokedAt: null }, { sort: ["-createdAt"] });
		const now = Date.now();
		return rows
			.filter(r => Date.parse(r.expiresAt) > now)
			.map(r => ({
				id: r.familyId,
				tenantId: r.tenantId,
				createdAt: r.familyCreatedAt,
				lastRefreshedAt: r.createdAt,
				expiresAt: r.expiresAt,
				userAgent: r.userAgent,
				ip: r.ip,
				current: r.familyId === currentFamilyId,
			}));
	}
}
