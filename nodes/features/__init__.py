"""Feature selection and importance."""
