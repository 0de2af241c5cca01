/**
 * GitHub issues assigned to the user, or the rows of a Notion database, become engagement tasks and stay
 * in sync (README, "Signing in with a provider, API clients and integrations"): each `issues` webhook of
 * a connection, and `POST /api/integrations/:id/sync`, create or update the task mirroring that item;
 * a Notion row no longer in its database (deleted or archived) completes its task. A link row per
 * (connection, issue id) with a unique index keeps it to one task however often an event repeats; the
 * tasks service is called as the system identity of the tenant the user connected in, the task assigned
 * to them. Closed → done, reopened → todo, title and body follow the issue.
 */
import { asSystem, currentUser } from "../../../lib/context";
import { ConflictError, IntegrationProviderError, IntegrationSyncUnavailableError, NotFoundError } from "../../../lib/errors";
import { ProviderUnavailableError } from "./resilient-fetch";
import type { ConnectionRow, IntegrationsMethodsOf, ProviderIssue } from "./types";

const TITLE_MAX = 200;
const DESCRIPTION_MAX = 10_000;

interface MirroredTask {
	id: string;
	status: string;
}

/** The task fields an issue dictates; `current` is the task's status now (an open issue leaves "doing" alone). */
function fieldsOf(issue: ProviderIssue, current?: string) {
	const closed = issue.state === "closed";
	const status = closed ? "done" : current === "doing" ? "doing" : "todo";
	// an item that is gone says nothing of its title or body: only the task's status follows
	if (issue.gone) return { status };
	return {
		title: (issue.title ?? "").trim().slice(0, TITLE_MAX) || `Issue ${issue.id}`,
		description: (issue.body ?? "").slice(0, DESCRIPTION_MAX),
		status,
	};
}

export const issueSyncMethods: IntegrationsMethodsOf<"syncIssue" | "syncAssignedIssues" | "syncConnection" | "syncListConnections"> = {
	syncIssue(connection, issue) {
		const tenantId = connection.tenantId;
		if (!tenantId || issue.pull_request || issue.id === undefined || issue.id === null) return Promise.resolve("skipped");
		const externalId = String(issue.id);
		const as = asSystem(tenantId);
		return this.syncing.run(`${connection.id}:${externalId}`, async () => {
			const link = await this.taskLinks.findOne({ connectionId: connection.id, externalId });
			if (link) {
				const task = (await this.broker.call("tasks.getTask", { id: link.taskId }, as).catch(err => {
					if (err instanceof NotFoundError) return null;
					throw err;
				})) as MirroredTask | null;
				if (!task) return "skipped"; // the user deleted the task: not brought back
				if (issue.gone && task.status === "done") return "skipped"; // closed at an earlier sync
				await this.broker.call("tasks.updateTask", { id: task.id, ...fieldsOf(issue, task.status) }, as);
				return "updated";
			}
			if (issue.gone) return "skipped";
			const { status, ...fields } = fieldsOf(issue) as ReturnType<typeof fieldsOf> & { title: string };
			const task = (await this.broker.call(
				"tasks.createTask",
				{ ...fields, tags: [connection.provider], assigneeId: connection.userId },
				as,
			)) as MirroredTask;
			// createTask takes only open statuses: an issue already closed is completed right after
			if (status === "done") await this.broker.call("tasks.updateTask", { id: task.id, status }, as);
			try {
				await this.taskLinks.insert({ connectionId: connection.id, externalId, tenantId, taskId: task.id });
			} catch (err) {
				if (!(err instanceof ConflictError)) throw err;
				// another node mirrored the same issue meanwhile: keep its task, drop ours
				await this.broker.call("tasks.deleteTask", { id: task.id }, as);
				return "skipped";
			}
			return "created";
		});
	},

	async syncAssignedIssues(ctx) {
		const connection: ConnectionRow | null = await this.connections.findOne({ id: ctx.params.id, userId: currentUser(ctx).id });
		if (!connection) throw new NotFoundError("Not found.", ctx.params.id);
		if (!connection.tenantId) throw new IntegrationSyncUnavailableError("it was connected outside a tenant");
		return this.syncConnection(connection);
	},

	async syncConnection(connection) {
		const client = this.clientOf(connection.provider);
		const counts = { created: 0, updated: 0, skipped: 0, closed: 0 };
		const seen = new Set<string>();
		try {
			for await (const page of client.assignedIssues(await this.accessTokenOf(connection.id)))
				for (const issue of page) {
					seen.add(String(issue.id));
					counts[await this.syncIssue(connection, issue)]++;
				}
			// A Notion listing holds every row the database still has: a mirrored row missing from it was deleted or archived.
			if (client.listsEverything)
				for (const link of await this.taskLinks.find({ connectionId: connection.id }))
					if (
						!seen.has(link.externalId) &&
						(await this.syncIssue(connection, { id: link.externalId, state: "closed", gone: true })) === "updated"
					)
						counts.closed++;
		} catch (err) {
			if (!(err instanceof ProviderUnavailableError)) throw err;
			this.logger.warn("issue sync: the provider failed", { provider: connection.provider, error: err.message });
			throw new IntegrationProviderError("The provider did not answer the issue listing. Try again later.");
		}
		return counts;
	},

	/** The `integrations.sync-lists` job: every tenant connection of a provider without webhooks for its items (Notion) is synced. */
	async syncListConnections() {
		let synced = 0;
		let failed = 0;
		for (const connection of await this.connections.find({})) {
			if (!connection.tenantId || !this.clients.get(connection.provider)?.listsEverything) continue;
			try {
				await this.syncConnection(connection);
				synced++;
			} catch (err) {
				failed++;
				this.logger.warn("scheduled sync failed", {
					connectionId: connection.id,
					provider: connection.provider,
					error: (err as Error).message,
				});
			}
		}
		return { synced, failed };
	},
};
