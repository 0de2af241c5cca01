/** Previous / next for a paged list (`Page<T>`'s `totalPages`); nothing when everything fits on one page. */
export function Pager({ page, totalPages, onPage }: { page: number; totalPages: number; onPage(p: number): void }) {
	if (totalPages <= 1) return null;
	return (
		<nav class="toolbar" aria-label="Pages">
			<button type="button" class="secondary small" disabled={page <= 1} onClick={() => onPage(page - 1)}>
				Previous
			</button>
			<span>
				Page {page} of {totalPages}
			</span>
			<button type="button" class="secondary small" disabled={page >= totalPages} onClick={() => onPage(page + 1)}>
				Next
			</button>
		</nav>
	);
}
