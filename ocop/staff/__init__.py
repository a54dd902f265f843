"""The staff workspace: the producers of their area, what needs attention there, and acting for a producer."""
