/**
 * GitHub issues assigned to the user become engagement tasks and stay in sync (README, "Signing in with a
 * provider, API clients and integrations"): each `issues` webhook of a connection, and the initial
 * `POST /api/integrations/:id/sync`, create or update the task mirroring that issue. A link row per
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
	return {
		title: (issue.title ?? "").trim().slice(0, TITLE_MAX) || `Issue ${issue.id}`,
		description: (issue.body ?? "").slice(0, DESCRIPTION_MAX),
		status,
	};
}

export const issueSyncMethods: IntegrationsMethodsOf<"syncIssue" | "syncAssignedIssues"> = {
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
				await this.broker.call("tasks.updateTask", { id: task.id, ...fieldsOf(issue, task.status) }, as);
				return "updated";
			}
			const { status, ...fields } = fieldsOf(issue);
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
		const client = this.clientOf(connection.provider);
		const counts = { created: 0, updated: 0, skipped: 0 };
		try {
			for await (const page of client.assignedIssues(await this.accessTokenOf(connection.id)))
				for (const issue of page) counts[await this.syncIssue(connection, issue)]++;
		} catch (err) {
			if (!(err instanceof ProviderUnavailableError)) throw err;
			this.logger.warn("issue sync: the provider failed", { provider: connection.provider, error: err.message });
			throw new IntegrationProviderError("The provider did not answer the issue listing. Try again later.");
		}
		return counts;
	},
};
