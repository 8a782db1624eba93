"""Customer and staff email: rendering templates and building messages for a Mailer."""
