"""The access log's part of the audit export: one `{"kind": "access", ...}` line per record,
as infra/audit/export.py streams them after the events, in the order (recorded_at, id).

A record belongs to the clinic of the caller it records; records of requests that proved no one
(401, no clinic) are in an operator's export of every clinic only.
"""

ACCESS_LINES = """
SELECT json_build_object(
    'kind', 'access',
    'id', id,
    'requested_at', requested_at,
    'recorded_at', recorded_at,
    'clinic_id', clinic_id,
    'user_id', user_id,
    'token_id', token_id,
    'role', role,
    'client_ids', client_ids,
    'goal_ids', goal_ids,
    'method', method,
    'route', route,
    'path', path,
    'status', status,
    'correlation_id', correlation_id
)::text AS line
FROM access_log
WHERE recorded_at >= $1 AND recorded_at < $2 AND ($3::text IS NULL OR clinic_id = $3::text::uuid)
ORDER BY recorded_at, id
"""

ACCESS_COUNT = """
SELECT count(*) FROM access_log
WHERE recorded_at >= $1 AND recorded_at < $2 AND ($3::text IS NULL OR clinic_id = $3::text::uuid)
"""
