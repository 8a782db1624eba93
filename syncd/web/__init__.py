"""The web tier: payment portal, demo mailbox and the shared templating and security pieces."""
