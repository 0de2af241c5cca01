/**
 * Your organisations: switch to one (a token scoped to it), create one (you become its owner), answer the
 * invitations addressed to you (the invitation e-mail's link lands here), and, as an admin or owner of the
 * current one, invite someone into it (README, "Invitations").
 */
import { useState } from "preact/hooks";
import { get, post, type Page } from "../../api";
import { EmailField, Field } from "../../components/field";
import { Form } from "../../components/form";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { Table } from "../../components/table";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { createTenant, currentTenant, isAdmin, reloadSession, switchTenant, type SignedIn } from "../../session";
import { when } from "../../format";

interface Invitation {
	id: string;
	tenantId: string;
	tenant: { name: string; slug: string };
	role: string;
	expiresAt: string;
}

const slugOf = (name: string) =>
	name
		.toLowerCase()
		.normalize("NFKD")
		.replace(/[^a-z0-9]+/g, "-")
		.replace(/^-+|-+$/g, "")
		.slice(0, 40);

export default function Tenants({ session, route }: ScreenProps) {
	const [name, setName] = useState("");
	const [slug, setSlug] = useState("");
	const [slugEdited, setSlugEdited] = useState(false);
	const create = useAction(createTenant);
	const change = useAction(switchTenant);
	const [created, setCreated] = useState<string | null>(null);
	return (
		<>
			<h1>Organisations</h1>
			<p>Data in Valence belongs to an organisation. The switcher at the top picks the one you work in.</p>
			<ProblemBanner problem={change.problem} />
			<Table
				caption="Your organisations"
				rows={session.tenants}
				rowKey={t => t.id}
				empty="You belong to no organisation yet: create one below, or accept an invitation."
				columns={[
					{ label: "Name", cell: t => (t.id === session.tenantId ? <strong>{t.name} (current)</strong> : t.name) },
					{ label: "Address", cell: t => t.slug },
					{ label: "Your role", cell: t => t.role },
					{ label: "Created", cell: t => when((t as { createdAt?: string }).createdAt) },
					// the id is what configuration names (OPERATOR_TENANT_ID, NOTIFY_PLATFORM_TENANT_ID)
					{ label: "ID", cell: t => <code>{t.id}</code> },
					{
						label: "Action",
						cell: t =>
							t.id === session.tenantId ? (
								"—"
							) : (
								<button
									type="button"
									class="secondary small"
									disabled={change.busy}
									onClick={() => void change.run(t.id)}
									aria-label={`Switch to ${t.name}`}
								>
									Switch
								</button>
							),
					},
				]}
			/>
			<Invitations highlight={route.query.get("invitation")} />
			{isAdmin(session) ? <Invite session={session} /> : null}
			<h2>Create an organisation</h2>
			{created ? <Notice kind="success">{created} is created and is now your current organisation.</Notice> : null}
			<Form
				problem={create.problem}
				fields={["name", "slug"]}
				// a taken address is said under its field (below), not twice
				banner={create.problem?.code === "SLUG_TAKEN" ? null : create.problem}
				onSubmit={async () => {
					const made = name;
					setCreated(null);
					if ((await create.run(name, slug)).ok) {
						setCreated(made);
						setName("");
						setSlug("");
						setSlugEdited(false);
					}
				}}
				noValidate
			>
				<Field
					label="Name"
					name="name"
					value={name}
					onInput={v => {
						setName(v);
						if (!slugEdited) setSlug(slugOf(v));
					}}
					required
					maxLength={100}
				/>
				<Field
					label="Address (slug)"
					name="slug"
					value={slug}
					onInput={v => {
						setSlug(v);
						setSlugEdited(true);
					}}
					problem={create.problem?.code === "SLUG_TAKEN" ? null : create.problem}
					error={create.problem?.code === "SLUG_TAKEN" ? "This address is taken: choose another." : undefined}
					hint="3–40 lowercase letters, digits and dashes."
					required
					maxLength={40}
				/>
				<button type="submit" disabled={create.busy}>
					Create
				</button>
			</Form>
		</>
	);
}

/** The invitations addressed to your e-mail: accept (you become a member with the invited role) or decline. */
function Invitations({ highlight }: { highlight: string | null }) {
	const list = useApi(signal => get<Page<Invitation>>("/api/tenants/invitations", undefined, { signal }));
	const [done, setDone] = useState<string | null>(null);
	const answer = useAction(async (inv: Invitation, how: "accept" | "decline") => {
		await post(`/api/tenants/invitations/${encodeURIComponent(inv.id)}/${how}`);
		setDone(
			how === "accept"
				? `You joined ${inv.tenant.name} as ${inv.role}: pick it in the switcher.`
				: `You declined the invitation to ${inv.tenant.name}.`,
		);
		list.reload();
		if (how === "accept") await reloadSession();
	});
	if (!list.data?.rows.length && !done && !highlight) return null;
	return (
		<>
			<h2>Invitations for you</h2>
			<ProblemBanner problem={list.problem ?? answer.problem} />
			{done ? <Notice kind="success">{done}</Notice> : null}
			{highlight && list.data && !list.data.rows.some(i => i.id === highlight) && !done ? (
				<p>
					This invitation is no longer open (answered, withdrawn or expired), or it was sent to another e-mail address than the one you
					signed in with.
				</p>
			) : null}
			{list.data ? (
				<Table
					caption="Invitations addressed to you"
					rows={list.data.rows}
					rowKey={i => i.id}
					rowClass={i => (i.id === highlight ? "row-highlight" : "")}
					empty="No open invitation."
					columns={[
						{ label: "Organisation", cell: i => i.tenant.name },
						{ label: "Role", cell: i => i.role },
						{ label: "Expires", cell: i => when(i.expiresAt) },
						{
							label: "Answer",
							cell: i => (
								<div class="toolbar">
									<button
										type="button"
										class="small"
										disabled={answer.busy}
										onClick={() => void answer.run(i, "accept")}
										aria-label={`Accept the invitation to ${i.tenant.name}`}
									>
										Accept
									</button>
									<button
										type="button"
										class="secondary small"
										disabled={answer.busy}
										onClick={() => void answer.run(i, "decline")}
										aria-label={`Decline the invitation to ${i.tenant.name}`}
									>
										Decline
									</button>
								</div>
							),
						},
					]}
				/>
			) : null}
		</>
	);
}

/** Invite an e-mail address into the current organisation (admins and owners; only owners invite owners). */
function Invite({ session }: { session: SignedIn }) {
	const tenant = currentTenant(session);
	const [email, setEmail] = useState("");
	const [role, setRole] = useState("member");
	const [sent, setSent] = useState<string | null>(null);
	const invite = useAction((address: string, r: string) =>
		post(`/api/tenants/${encodeURIComponent(tenant!.id)}/invitations`, { email: address, role: r }),
	);
	if (!tenant) return null;
	const roles = tenant.role === "owner" ? ["member", "admin", "owner"] : ["member", "admin"];
	return (
		<>
			<h2>Invite someone to {tenant.name}</h2>
			{sent ? <Notice kind="success">{sent}</Notice> : null}
			<Form
				problem={invite.problem}
				fields={["email", "role"]}
				onSubmit={async () => {
					setSent(null);
					if ((await invite.run(email, role)).ok) {
						setSent(`${email} is invited as ${role}. The invitation is valid for 7 days.`);
						setEmail("");
					}
				}}
				noValidate
			>
				<EmailField value={email} onInput={setEmail} autoComplete="off" />
				<div class="field">
					<label for="invite-role">Role</label>
					<select id="invite-role" value={role} onChange={e => setRole((e.currentTarget as HTMLSelectElement).value)}>
						{roles.map(r => (
							<option key={r} value={r}>
								{r}
							</option>
						))}
					</select>
				</div>
				<button type="submit" disabled={invite.busy}>
					Send the invitation
				</button>
			</Form>
		</>
	);
}
