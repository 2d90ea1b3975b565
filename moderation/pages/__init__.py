"""HTML pages: one blueprint per feature, with their forms and the helpers only templates need.

Pages parse the request, call the services and render; they never write to the database themselves.
"""
