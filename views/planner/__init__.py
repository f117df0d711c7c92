"""The planner's part of the app: a day's import, solve, review, adjustments and publications."""
