"""The inventory: every secret a team has, who issues it, who consumes it, when it is due."""
