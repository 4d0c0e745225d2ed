"""The programme: trainings, the weekly live-coaching series, calendars and reach toward the target."""
