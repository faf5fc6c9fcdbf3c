"""Business rules as verb_noun functions. They take the actor explicitly, flush, and let the
caller commit: one request or one worker job is one transaction."""
