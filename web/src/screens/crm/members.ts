/** The members of the current tenant (GET /api/tenants/:id/members), for assignee pickers. */
import { get, type Page } from "../../api";
import { useApi } from "../../components/use-api";
import type { SignedIn } from "../../session";

export interface Member {
	userId: string;
	role: string;
}

export function useMembers(session: SignedIn) {
	return useApi(
		signal => get<Page<Member>>(`/api/tenants/${encodeURIComponent(session.tenantId ?? "")}/members`, { pageSize: 100 }, { signal }),
		[session.tenantId],
	);
}

/** "You" for the signed-in user, else the user id (the members list carries no names). */
export const memberName = (session: SignedIn, userId: string | null | undefined) =>
	!userId ? "Nobody" : userId === session.user.id ? `You (${session.user.name ?? session.user.email ?? userId})` : userId;

/** The members as `<select>` choices (`Options`, `SelectFilter`): their ids and `memberName`s. */
export const memberChoices = (session: SignedIn, rows: Member[] | undefined) =>
	(rows ?? []).map(m => [m.userId, memberName(session, m.userId)] as const);
