#![no_main]

#[global_allocator]
static ALLOCATOR: hafs_fuzz_targets::BoundedAllocator = hafs_fuzz_targets::BoundedAllocator;

libfuzzer_sys::fuzz_target!(|data: &[u8]| hafs_fuzz_targets::datatransfer_packet(data));
