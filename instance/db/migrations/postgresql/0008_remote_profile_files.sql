-- PostgreSQL's version of 0008_remote_profile_files.py: the `remote_files` rows of remote
-- avatars and headers stored before 0007, in SQL (sha256 of the URL, hex, as
-- instance/urls.py's remote_file_hash makes it).
INSERT INTO remote_files (url_hash, url, created_at)
    SELECT encode(sha256(convert_to(url, 'UTF8')), 'hex'), url,
           CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)
    FROM (SELECT avatar_url AS url FROM accounts WHERE domain != '' AND avatar_url IS NOT NULL
          UNION SELECT header_url FROM accounts WHERE domain != '' AND header_url IS NOT NULL) u
    WHERE url LIKE 'https://%' OR url LIKE 'http://%'
    ON CONFLICT (url_hash) DO NOTHING;
