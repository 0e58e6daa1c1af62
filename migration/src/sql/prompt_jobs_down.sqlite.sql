DROP TABLE prompt_jobs;
