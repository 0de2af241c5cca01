/** Your organisations: switch to one (a token scoped to it), or create one (you become its owner). */
import { useState } from "preact/hooks";
import { Field } from "../../components/field";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { Table, when } from "../../components/table";
import { useAction } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { createTenant, switchTenant } from "../../session";

const slugOf = (name: string) =>
	name
		.toLowerCase()
		.normalize("NFKD")
		.replace(/[^a-z0-9]+/g, "-")
		.replace(/^-+|-+$/g, "")
		.slice(0, 40);

export default function Tenants({ session }: ScreenProps) {
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
			<h2>Create an organisation</h2>
			{created ? <Notice kind="success">{created} is created and is now your current organisation.</Notice> : null}
			<form
				onSubmit={async e => {
					e.preventDefault();
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
				{/* a taken address is said under its field (below), not twice */}
				<ProblemBanner problem={create.problem?.code === "SLUG_TAKEN" ? null : create.problem} fields={["name", "slug"]} />
				<Field
					label="Name"
					name="name"
					value={name}
					onInput={v => {
						setName(v);
						if (!slugEdited) setSlug(slugOf(v));
					}}
					problem={create.problem}
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
			</form>
		</>
	);
}
