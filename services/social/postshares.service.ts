/** One share (repost) per user per original post; the row points at the share post it created. */
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { EdgeMixin } from "./edges";

const PostSharesService: ServiceSchema<DbSettings> = {
	name: "postshares",
	mixins: [
		EdgeMixin({
			collection: "social_shares",
			indexes: [{ fields: ["postId", "userId"], unique: true }, { fields: ["postId"] }, { fields: ["userId"] }],
		}),
	],
};

export default PostSharesService;
