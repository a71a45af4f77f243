"""Cost guardrails: AWS Budgets with alerts to an encrypted SNS topic."""

from .budget import BudgetAlert, SpendBudget, allow_budget_notifications

__all__ = ["BudgetAlert", "SpendBudget", "allow_budget_notifications"]
