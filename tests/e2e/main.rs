//! End-to-end tests: the real `switchyard` binary run on files in temporary directories.

mod demo;
mod docs;
mod durability;
mod evidence;
mod faults;
mod fuzz;
mod http_body;
mod incident;
mod invalid;
mod invalid_sites;
mod numbers;
mod order;
mod plan;
mod postgres;
mod report_html;
mod run;
mod run_ssh;
mod signing;
mod site;
mod site_plan;
mod site_reports;
mod ssh;
mod status;
mod status_formats;
mod support;
mod verify;
