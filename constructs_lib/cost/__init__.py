"""Cost guardrails: AWS Budgets with alerts to an encrypted SNS topic."""

from .budget import BudgetAlert, SpendBudget, SpendBudgetOptions, allow_budget_notifications

__all__ = ["BudgetAlert", "SpendBudget", "SpendBudgetOptions", "allow_budget_notifications"]
