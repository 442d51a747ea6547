"""minitorch_cv.data (filled in by its issue)."""
