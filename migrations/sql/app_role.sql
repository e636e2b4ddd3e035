-- The role the service runs as. It owns nothing: it gets only the rights each
-- migration grants it (the access log is INSERT-only for it).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rekisteri_app') THEN
        CREATE ROLE rekisteri_app NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO rekisteri_app;
DO $$
BEGIN
    EXECUTE format('GRANT rekisteri_app TO %I', current_user);
EXCEPTION WHEN others THEN
    NULL;  -- already a member, or a superuser
END
$$;
