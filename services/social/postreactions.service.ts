/** One reaction (like, love, …) per user per post: the rows behind the reaction counters of posts. */
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { EdgeMixin } from "./edges";

const PostReactionsService: ServiceSchema<DbSettings> = {
	name: "postreactions",
	mixins: [
		EdgeMixin({
			collection: "social_reactions",
			indexes: [{ fields: ["postId", "userId"], unique: true }, { fields: ["postId"] }, { fields: ["userId"] }],
		}),
	],
};

export default PostReactionsService;
