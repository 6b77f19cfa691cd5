//! Dense integer ids. Each indexes a `Vec` directly; none is ever hashed.

use core::fmt;

macro_rules! dense_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// The id as a vector index.
            #[inline]
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}#{}", stringify!($name), self.0)
            }
        }
    };
}

dense_id!(
    /// A clip. Clips are numbered densely from 0 in upload order.
    ClipId
);
dense_id!(
    /// A storage region (`us-east-1`, ...), numbered in configuration order.
    RegionId
);
dense_id!(
    /// A viewer geography (`na`, `eu`, ...), numbered in configuration order.
    GeoId
);
dense_id!(
    /// A provider that sends bills (`s3`, `cloudflare`, ...), numbered in configuration order.
    ProviderId
);
